"""services.uploads.policy: the limits, the NUL rule, and what an import is spared."""

from __future__ import annotations

import pytest

from wheelyard.services.uploads.policy import (
    FIELD_LIMITS,
    IMPORT_POLICY,
    MAX_DESCRIPTION_LENGTH,
    UPLOAD_POLICY,
    contains_nul,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", False),
        ("a\0b", True),
        (["a", "b\0"], True),
        ({"label": "https://example.com"}, False),
        ({"la\0bel": "https://example.com"}, True),
        ({"label": "https://example.com/\0"}, True),
        (None, False),
        (3, False),
    ],
)
def test_a_nul_is_found_in_text_lists_and_mappings(value: object, expected: bool) -> None:
    assert contains_nul(value) is expected


def test_an_upload_meets_every_rule_and_an_import_only_the_old_ones() -> None:
    assert UPLOAD_POLICY.client_fields and IMPORT_POLICY.client_fields is False
    assert UPLOAD_POLICY.pypi_name_rules and IMPORT_POLICY.pypi_name_rules is False
    assert UPLOAD_POLICY.known_classifiers_only and IMPORT_POLICY.known_classifiers_only is False
    assert UPLOAD_POLICY.url_label_limit and IMPORT_POLICY.url_label_limit is False


def test_the_description_limit_is_the_description_fields_limit() -> None:
    assert FIELD_LIMITS["description"] == MAX_DESCRIPTION_LENGTH
