"""What an index accepts: the size and length limits, and which rules a source of files meets.

The limits are what the columns hold and what a server can check without stalling; the
Policy says how strictly a source is held to PyPI's newer naming and classifier rules.
"""

from __future__ import annotations

from dataclasses import dataclass

MEGABYTE = 1024 * 1024
MAX_FILE_SIZE = 100 * MEGABYTE
MAX_FILENAME_LENGTH = 255
# A README longer than this is not a README, and rendering it would stall the upload.
MAX_DESCRIPTION_LENGTH = 4 * MEGABYTE
# What the columns hold; anything longer is refused rather than cut.
FIELD_LIMITS = {
    "summary": 512,
    "description_content_type": 128,
    "home_page": 1024,
    "download_url": 1024,
    "author": 512,
    "author_email": 512,
    "maintainer": 512,
    "maintainer_email": 512,
    "requires_python": 256,
    "keywords": 1024,
    "description": MAX_DESCRIPTION_LENGTH,
}
MAX_URL_LABEL_LENGTH = 32
MAX_URL_LENGTH = 1024
MAX_PYVERSION_LENGTH = 64  # release_files.python_version
# PostgreSQL cannot store a NUL character in text; refused on every database alike.
NUL_NOT_ALLOWED = "Null bytes are not allowed."


def contains_nul(value: object) -> bool:
    """Whether a metadata value (text, or a list or mapping of texts) holds a NUL character."""
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


@dataclass(frozen=True)
class Policy:
    """Which rules a source of files is held to.

    Uploads get all of PyPI's rules. An import of a folder that another index has served
    for years (pypiserver's) is spared the rules PyPI only added later (PEP 625 sdist names,
    standard-library names, the current classifier list), so that old files still come in;
    the safety and consistency rules hold for both.
    """

    client_fields: bool  # filetype, pyversion and digests were sent by a client
    pypi_name_rules: bool  # PEP 625 sdist filenames, no standard-library project names
    known_classifiers_only: bool
    url_label_limit: bool


UPLOAD_POLICY = Policy(
    client_fields=True, pypi_name_rules=True, known_classifiers_only=True, url_label_limit=True
)
IMPORT_POLICY = Policy(
    client_fields=False, pypi_name_rules=False, known_classifiers_only=False, url_label_limit=False
)
