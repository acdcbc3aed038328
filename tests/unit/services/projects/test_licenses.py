"""Clean license names from License-Expression, the License field and classifiers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.license import License
from wheelyard.services.projects.licenses import MAX_LICENSE_NAME, ensure_license, license_name

MIT_CLASSIFIER = "License :: OSI Approved :: MIT License"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIT", "MIT"),
        ("MIT License", "MIT"),
        ("mit license", "MIT"),
        ("Expat license", "MIT"),
        ("BSD", "BSD-3-Clause"),
        ("new BSD License", "BSD-3-Clause"),
        ("3-Clause BSD License", "BSD-3-Clause"),
        ("Simplified BSD", "BSD-2-Clause"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("ASL 2", "Apache-2.0"),
        ("http://www.apache.org/licenses/LICENSE-2.0", "Apache-2.0"),
        ("PSF", "PSF-2.0"),
        ("ISC license", "ISC"),
        ("BSD or Apache License, Version 2.0", "BSD-3-Clause OR Apache-2.0"),
        ("Amazon Software License", "Amazon Software License"),
    ],
)
def test_free_text_spellings_become_one_name(text: str, expected: str) -> None:
    assert license_name(expression=None, license_text=text, classifiers=[]) == expected


def test_an_expression_wins_and_is_canonicalized() -> None:
    name = license_name(
        expression="mit or apache-2.0", license_text="BSD", classifiers=[MIT_CLASSIFIER]
    )
    assert name == "MIT OR Apache-2.0"


def test_an_invalid_expression_falls_back_to_the_text() -> None:
    assert license_name(expression="not a license!", license_text="MIT", classifiers=[]) == "MIT"


@pytest.mark.parametrize("text", [None, "", "UNKNOWN", "  ", "see LICENSE"])
def test_empty_text_defers_to_the_classifiers(text: str | None) -> None:
    assert license_name(expression=None, license_text=text, classifiers=[MIT_CLASSIFIER]) == "MIT"


def test_an_unrecognised_text_does_not_hide_a_classifier() -> None:
    name = license_name(expression=None, license_text="Dual License", classifiers=[MIT_CLASSIFIER])
    assert name == "MIT"


def test_a_pasted_license_is_never_a_name() -> None:
    pasted = "Copyright (c) 2010 Someone\n\nPermission is hereby granted, free of charge, ..."
    assert license_name(expression=None, license_text=pasted, classifiers=[]) is None
    assert license_name(expression=None, license_text="x" * 500, classifiers=[]) is None


def test_classifiers_name_the_license_and_unspecific_ones_are_ignored() -> None:
    classifiers = [
        "License :: OSI Approved",
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
    ]
    assert license_name(expression=None, license_text=None, classifiers=classifiers) == (
        "Apache-2.0"
    )


def test_several_classifiers_are_a_choice() -> None:
    classifiers = [MIT_CLASSIFIER, "License :: OSI Approved :: BSD License"]
    assert license_name(expression=None, license_text=None, classifiers=classifiers) == (
        "MIT OR BSD-3-Clause"
    )


def test_an_unmapped_classifier_keeps_its_name_without_the_abbreviation() -> None:
    classifiers = ["License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)"]
    assert license_name(expression=None, license_text=None, classifiers=classifiers) == (
        "European Union Public Licence 1.2"
    )


def test_nothing_said_is_none() -> None:
    assert license_name(expression=None, license_text=None, classifiers=[]) is None


def test_names_fit_the_column() -> None:
    expression = " OR ".join(["MIT", "Apache-2.0", "BSD-3-Clause", "ISC"] * 20)
    name = license_name(expression=expression, license_text=None, classifiers=[])
    assert name is not None
    assert len(name) <= MAX_LICENSE_NAME


def test_ensure_license_creates_once(db: Session) -> None:
    first = ensure_license(db, "MIT")
    second = ensure_license(db, "MIT")
    db.flush()
    assert first is second
    assert db.scalar(sa.select(sa.func.count()).select_from(License)) == 1
