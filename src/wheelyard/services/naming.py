"""Project names: PEP 503 normalization and PyPI's name rules, in one place."""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

# PEP 508 names: ASCII letters and digits, with . _ - only between them.
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
MAX_NAME_LENGTH = 200


def normalize_name(name: str) -> str:
    """``Flask_SQLAlchemy`` -> ``flask-sqlalchemy``: the id and URL of a project."""
    return str(canonicalize_name(name))


def is_valid_project_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and _VALID_NAME.match(name) is not None
