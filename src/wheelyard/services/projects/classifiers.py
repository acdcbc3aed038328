"""Programming languages from trove classifiers ("Programming Language :: Python :: 3").

Languages are kept at the level people browse by: the language and, for Python, its major
version or implementation. "Python :: 3.12" and "Python :: 3 :: Only" both mean "Python 3";
per-minor versions would split one list of Python 3 projects into a dozen.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.language import Language
from wheelyard.data.package import Package
from wheelyard.data.package_classifier import MAX_CLASSIFIER_LENGTH, PackageClassifier
from wheelyard.services.projects.licenses import ensure_license, license_name
from wheelyard.services.projects.named_rows import get_or_add

MAX_LANGUAGE_NAME = 100
_PREFIX = "Programming Language"


def language_of(classifier: str) -> str | None:
    """The language a "Programming Language ::" classifier names; None for other classifiers."""
    segments = [segment.strip() for segment in classifier.split("::")]
    if segments[0] != _PREFIX or len(segments) < 2 or not segments[1]:
        return None
    language, rest = segments[1], segments[2:]
    if language != "Python" or not rest:
        return " ".join([language, *rest]) if language != "Python" else "Python"
    if rest[0] == "Implementation" and len(rest) > 1:
        return rest[1]  # "CPython", "PyPy"
    major = rest[0].split(".")[0]
    return f"Python {major}" if major.isdigit() else "Python"


def languages_from_classifiers(classifiers: Iterable[str]) -> list[str]:
    """The distinct languages the classifiers name, sorted."""
    found = {language_of(classifier) for classifier in classifiers}
    return sorted(name[:MAX_LANGUAGE_NAME] for name in found if name)


def ensure_languages(db: Session, names: Iterable[str]) -> list[Language]:
    """The language rows for ``names``, creating those that are new."""
    return [get_or_add(db, Language, name) for name in names]


def set_classifiers(db: Session, package: Package, classifiers: Iterable[str]) -> None:
    """Make ``classifiers`` the package's classifiers, as its newest metadata lists them.

    Blank, over-long and NUL-bearing entries are skipped: no filter could ask for them.
    """
    wanted: dict[str, None] = {}
    for raw in classifiers:
        classifier = raw.strip()
        if classifier and len(classifier) <= MAX_CLASSIFIER_LENGTH and "\x00" not in classifier:
            wanted[classifier] = None
    existing = {
        row.classifier: row
        for row in db.scalars(
            sa.select(PackageClassifier).where(PackageClassifier.package_id == package.id)
        )
    }
    for classifier, row in existing.items():
        if classifier not in wanted:
            db.delete(row)
    for classifier in wanted:
        if classifier not in existing:
            db.add(PackageClassifier(package=package, classifier=classifier))


def describe_by_classifiers(
    db: Session,
    package: Package,
    classifiers: list[str],
    *,
    license_expression: str | None,
    license_text: str | None,
) -> None:
    """Fill the package's license, languages and stored classifiers from its newest metadata.

    Uploads and imports both describe a project this way, from the same fields.
    """
    name = license_name(
        expression=license_expression, license_text=license_text, classifiers=classifiers
    )
    package.license_id = ensure_license(db, name).id if name else None
    package.languages = ensure_languages(db, languages_from_classifiers(classifiers))
    set_classifiers(db, package, classifiers)
