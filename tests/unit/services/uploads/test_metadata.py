"""services.uploads.metadata: core metadata from the form or the archive, checked as PyPI does."""

from __future__ import annotations

from typing import Any

import pytest
from packaging.metadata import RawMetadata

from tests.helpers.dists import Project, wheel
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.metadata import (
    metadata_from_archive,
    metadata_from_form,
    validate_metadata,
)
from wheelyard.services.uploads.policy import IMPORT_POLICY

# --- reading ----------------------------------------------------------------------------------


def test_metadata_from_archive_reads_the_known_headers() -> None:
    raw = metadata_from_archive(wheel(Project("tiny-lib", "1.0")).metadata.encode())
    assert (raw["metadata_version"], raw["name"], raw["version"]) == ("2.1", "tiny-lib", "1.0")
    assert raw["author_email"] == "author@example.com"


def test_metadata_from_form_reads_twines_fields() -> None:
    raw = metadata_from_form(
        {
            "metadata_version": ["2.4"],
            "name": ["tiny-lib"],
            "version": ["1.0"],
            "summary": [""],
            "classifiers": ["A :: B", "C :: D"],
            "keywords": ["one", "two"],
            "project_urls": ["Docs, https://example.com/docs", "Source,https://example.com/src"],
            "license_file": ["LICENSE"],
            "platform": ["any"],
            "requires_dist": ["tiny-dep>=1"],
        }
    )
    assert raw == {
        "metadata_version": "2.4",
        "name": "tiny-lib",
        "version": "1.0",
        "classifiers": ["A :: B", "C :: D"],
        "keywords": ["one", "two"],
        "project_urls": {"Docs": "https://example.com/docs", "Source": "https://example.com/src"},
        "license_files": ["LICENSE"],
        "platforms": ["any"],
        "requires_dist": ["tiny-dep>=1"],
    }


def test_metadata_from_form_splits_comma_separated_keywords() -> None:
    assert metadata_from_form({"keywords": ["one, two,three"]})["keywords"] == [
        "one",
        "two",
        "three",
    ]


def test_metadata_from_form_refuses_a_project_url_without_label() -> None:
    with pytest.raises(UploadError) as caught:
        metadata_from_form({"project_urls": ["https://example.com"]})
    assert caught.value.message.startswith("Invalid value for project_urls.")


BASE: RawMetadata = {"metadata_version": "2.1", "name": "tiny-lib", "version": "1.0"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"metadata_version": ""},
            "Invalid value for metadata_version. Error: This field is required.",
        ),
        (
            {"metadata_version": "3.0"},
            "Invalid value for metadata_version. Error: Use a known metadata version",
        ),
        ({"name": ""}, "Invalid value for name. Error: This field is required."),
        ({"version": ""}, "Invalid value for version. Error: This field is required."),
        ({"name": "-bad-"}, "Invalid value for name. Error: "),
        ({"name": "a" * 201}, "Invalid value for name. Error: Start and end with a letter"),
        (
            {"version": "one point oh"},
            "Invalid value for version. Error: 'one point oh' is invalid",
        ),
        (
            {"version": "1." + "9" * 120},
            "Invalid value for version. Error: Use at most 100 characters.",
        ),
        ({"summary": "two\nlines"}, "Invalid value for summary. Error: "),
        ({"summary": "x" * 513}, "Invalid value for summary. Error: Use at most 512 characters."),
        ({"requires_python": ">=>3"}, "Invalid value for requires_python. Error: "),
        ({"requires_dist": ["not a requirement!"]}, "Invalid value for requires_dist. Error: "),
        ({"description_content_type": "text/html"}, "Invalid value for description_content_type."),
        (
            {"keywords": ["k" * 600, "w" * 600]},
            "Invalid value for keywords. Error: Use at most 1,024",
        ),
        (
            {"classifiers": ["Made :: Up"]},
            "Invalid value for classifiers. Error: Classifier 'Made :: Up' is not a valid",
        ),
        ({"classifiers": ["Natural Language :: Ukranian"]}, "has been deprecated"),
        ({"project_urls": {"L" * 33: "https://example.com"}}, "Invalid value for project_urls."),
    ],
)
def test_invalid_metadata_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(UploadError) as caught:
        validate_metadata({**BASE, **changes})  # type: ignore[typeddict-item]
    assert caught.value.message.startswith(message) or message in caught.value.message
    assert caught.value.status == 400


def test_metadata_problems_are_reported_in_pypis_order() -> None:
    with pytest.raises(UploadError) as caught:
        validate_metadata({**BASE, "summary": "a\nb", "version": "bad version", "name": "-x-"})
    assert caught.value.message.startswith("Invalid value for name.")


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4"])
def test_every_known_metadata_version_is_accepted(version: str) -> None:
    assert validate_metadata({**BASE, "metadata_version": version}).name == "tiny-lib"


def test_fields_newer_than_the_declared_version_are_tolerated_and_still_checked() -> None:
    # setuptools wrote License-File into 2.1 metadata for years.
    ok = validate_metadata({**BASE, "license_files": ["LICENSE"]})
    assert ok.license_files == ["LICENSE"]
    with pytest.raises(UploadError) as caught:
        validate_metadata({**BASE, "license_files": ["../LICENSE"]})
    assert caught.value.message.startswith("Invalid value for license_file.")


def test_private_classifiers_are_accepted() -> None:
    metadata = validate_metadata({**BASE, "classifiers": ["Private :: Do Not Upload"]})
    assert metadata.classifiers == ["Private :: Do Not Upload"]


# --- checking, stage by stage -----------------------------------------------------------------


def test_a_problem_any_parse_meets_is_reported_before_packagings() -> None:
    # The NUL would stop packaging too; the missing version is reported first all the same.
    with pytest.raises(UploadError) as caught:
        validate_metadata({**BASE, "version": "", "summary": "a\0b"})
    assert caught.value.message == "Invalid value for version. Error: This field is required."


def test_a_nul_anywhere_is_refused_before_packaging_looks() -> None:
    with pytest.raises(UploadError) as caught:
        validate_metadata({**BASE, "summary": "a\nb", "keywords": ["a\0b"]})
    assert caught.value.message == "Invalid value for keywords. Error: Null bytes are not allowed."


def test_packagings_problems_are_reported_before_the_index_rules() -> None:
    with pytest.raises(UploadError) as caught:
        validate_metadata({**BASE, "summary": "x" * 513, "requires_python": ">=>3"})
    assert caught.value.message.startswith("Invalid value for requires_python.")


def test_the_index_rules_report_the_first_problem_in_field_order() -> None:
    with pytest.raises(UploadError) as caught:
        validate_metadata(
            {**BASE, "author": "a" * 513, "summary": "s" * 513, "classifiers": ["Made :: Up"]}
        )
    assert caught.value.message == "Invalid value for summary. Error: Use at most 512 characters."


def test_an_import_is_spared_the_newer_classifier_and_label_rules() -> None:
    raw: RawMetadata = {
        **BASE,
        "classifiers": ["Made :: Up", "Natural Language :: Ukranian"],
        "project_urls": {"L" * 33: "https://example.com"},
    }
    assert validate_metadata(raw, IMPORT_POLICY).classifiers == raw["classifiers"]
    with pytest.raises(UploadError):
        validate_metadata(raw)


def test_url_lengths_hold_for_imports_too() -> None:
    raw: RawMetadata = {**BASE, "project_urls": {"Docs": "https://example.com/" + "x" * 1024}}
    with pytest.raises(UploadError) as caught:
        validate_metadata(raw, IMPORT_POLICY)
    assert caught.value.message == (
        "Invalid value for project_urls. Error: Use URLs of at most 1024 characters."
    )
