"""Programming languages from trove classifiers ("Programming Language :: Python :: 3").

Languages are kept at the level people browse by: the language and, for Python, its major
version or implementation. "Python :: 3.12" and "Python :: 3 :: Only" both mean "Python 3";
per-minor versions would split one list of Python 3 projects into a dozen.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wheelyard.data.language import Language

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
    languages = []
    for name in names:
        found = db.get(Language, name)
        if found is None:
            found = Language(id=name)
            try:
                # A savepoint: another transaction may add the same language concurrently.
                with db.begin_nested():
                    db.add(found)
            except IntegrityError:
                existing = db.get(Language, name)
                if existing is None:
                    raise
                found = existing
        languages.append(found)
    return languages
