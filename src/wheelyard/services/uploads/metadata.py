"""Core metadata: read from the upload form or from the archive, then checked as PyPI checks it.

Checking follows the idea of warehouse's ``forklift/metadata.py``: a stage collects every
problem it finds, each a packaging ``InvalidMetadata`` naming its field, and the refusal
reports the first. The stages run in PyPI's order, each only when the one before found
nothing: what any parse needs (a known Metadata-Version, a name, a version, no NUL), then
packaging's validation of every field, then this index's own limits and classifier rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

import packaging.metadata
import trove_classifiers
from packaging.metadata import InvalidMetadata, Metadata, RawMetadata, parse_email
from packaging.version import Version

from wheelyard.services.naming import MAX_NAME_LENGTH, is_valid_project_name
from wheelyard.services.projects.packages import MAX_VERSION_LENGTH
from wheelyard.services.uploads.errors import UploadError, invalid_value
from wheelyard.services.uploads.policy import (
    FIELD_LIMITS,
    MAX_URL_LABEL_LENGTH,
    MAX_URL_LENGTH,
    NUL_NOT_ALLOWED,
    UPLOAD_POLICY,
    Policy,
    contains_nul,
)

# packaging knows which metadata versions exist but has no public list of them.
_PACKAGING_METADATA_VERSIONS: tuple[str, ...] = tuple(
    getattr(packaging.metadata, "_VALID_METADATA_VERSIONS", ())
) or ("1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4")
# "2.0" never existed as a standard, but bdist_wheel wrote it for years (it means 2.1).
KNOWN_METADATA_VERSIONS = ("2.0", *_PACKAGING_METADATA_VERSIONS)
_NEWEST_METADATA_VERSION = _PACKAGING_METADATA_VERSIONS[-1]
# Among packaging's problems, these are worth reporting first; the rest follow by field name.
_ERROR_ORDER = ("metadata_version", "name", "version")
_REQUIRED = "This field is required."


# --- checking ---------------------------------------------------------------------------------


def validate_metadata(raw: RawMetadata, policy: Policy = UPLOAD_POLICY) -> Metadata:
    """The metadata, checked as PyPI checks it; UploadError for the first problem found.

    Fields newer than the declared Metadata-Version are validated all the same, and
    refused only where no tool ever wrote them into older metadata: License-Expression
    (2.4) and Import-Name (2.5). setuptools wrote License-File into 2.1 metadata for
    years, with another meaning, and PyPI took it.
    """
    _refuse_first(_parse_problems(raw))
    _refuse_first(_too_new_problems(raw))
    checked: RawMetadata = {**raw, "metadata_version": _NEWEST_METADATA_VERSION}
    try:
        metadata = Metadata.from_raw(checked, validate=True)
    except ExceptionGroup as group:
        problems = [error for error in _leaves(group) if isinstance(error, InvalidMetadata)]
        if not problems:
            raise
        raise _refusal(min(problems, key=_error_rank)) from group
    _refuse_first(_index_problems(raw, metadata, policy))
    return metadata


# Fields of newer metadata versions that older metadata may not carry: (field, version).
_NEWER_FIELDS = (
    ("license_expression", "2.4"),
    ("import_names", "2.5"),
    ("import_namespaces", "2.5"),
)


def _too_new_problems(raw: RawMetadata) -> list[InvalidMetadata]:
    declared = raw.get("metadata_version")
    if declared not in KNOWN_METADATA_VERSIONS:
        return []  # _parse_problems has said so
    problems = []
    for field, added in _NEWER_FIELDS:
        if raw.get(field) and Version(declared) < Version(added):
            problems.append(
                InvalidMetadata(
                    field,
                    f"{_form_name(field)} was introduced in metadata version {added}; this "
                    f"metadata declares {declared}. Build with a tool that writes "
                    f"Metadata-Version {added} or later.",
                )
            )
    return problems


def _refuse_first(problems: Sequence[InvalidMetadata]) -> None:
    if problems:
        raise _refusal(problems[0])


def _refusal(problem: InvalidMetadata) -> UploadError:
    return invalid_value(_form_name(problem.field), str(problem))


def _form_name(field: str) -> str:
    """``Requires-Python`` (as packaging names fields) -> ``requires_python`` (as forms do)."""
    return field.lower().replace("-", "_")


def _error_rank(error: InvalidMetadata) -> tuple[int, str]:
    name = _form_name(error.field)
    return (_ERROR_ORDER.index(name) if name in _ERROR_ORDER else len(_ERROR_ORDER), name)


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterable[BaseException]:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            yield from _leaves(error)
        else:
            yield error


def _parse_problems(raw: RawMetadata) -> list[InvalidMetadata]:
    """What packaging's validation needs before it can say anything useful."""
    problems = []
    declared = raw.get("metadata_version")
    if not declared:
        problems.append(InvalidMetadata("metadata_version", _REQUIRED))
    elif declared not in KNOWN_METADATA_VERSIONS:
        problems.append(
            InvalidMetadata("metadata_version", f"Use a known metadata version, not {declared!r}.")
        )
    problems += [
        InvalidMetadata(required, _REQUIRED)
        for required in ("name", "version")
        if not raw.get(required)
    ]
    problems += [
        InvalidMetadata(key, NUL_NOT_ALLOWED) for key, value in raw.items() if contains_nul(value)
    ]
    return problems


def _index_problems(raw: RawMetadata, metadata: Metadata, policy: Policy) -> list[InvalidMetadata]:
    """This index's rules beyond the core metadata specification: names, lengths, classifiers."""
    problems = []
    if len(metadata.name) > MAX_NAME_LENGTH or not is_valid_project_name(metadata.name):
        problems.append(
            InvalidMetadata(
                "name",
                "Start and end with a letter or numeral and use only ASCII letters, numerals, "
                f"'.', '_' and '-', at most {MAX_NAME_LENGTH} characters.",
            )
        )
    if len(str(metadata.version)) > MAX_VERSION_LENGTH:
        problems.append(InvalidMetadata("version", f"Use at most {MAX_VERSION_LENGTH} characters."))
    fields: dict[str, object] = {**raw, "keywords": ",".join(raw.get("keywords") or [])}
    for field, limit in FIELD_LIMITS.items():
        value = fields.get(field)
        if isinstance(value, str) and len(value) > limit:
            problems.append(InvalidMetadata(field, f"Use at most {limit:,} characters."))
    for label, url in (raw.get("project_urls") or {}).items():
        if policy.url_label_limit and len(label) > MAX_URL_LABEL_LENGTH:
            problems.append(
                InvalidMetadata(
                    "project_urls", f"Use labels of at most {MAX_URL_LABEL_LENGTH} characters."
                )
            )
        if len(url) > MAX_URL_LENGTH:
            problems.append(
                InvalidMetadata("project_urls", f"Use URLs of at most {MAX_URL_LENGTH} characters.")
            )
    if policy.known_classifiers_only:
        for classifier in raw.get("classifiers") or []:
            problems += _classifier_problems(classifier)
    return problems


def _classifier_problems(classifier: str) -> list[InvalidMetadata]:
    # "Private ::" marks a project that must never reach a public index; it is fine here.
    if classifier.startswith("Private ::"):
        return []
    if classifier in trove_classifiers.deprecated_classifiers:
        return [InvalidMetadata("classifiers", f"Classifier {classifier!r} has been deprecated.")]
    if classifier not in trove_classifiers.classifiers:
        return [
            InvalidMetadata("classifiers", f"Classifier {classifier!r} is not a valid classifier.")
        ]
    return []


# --- reading ----------------------------------------------------------------------------------


def metadata_from_archive(data: bytes) -> RawMetadata:
    """The raw metadata in a METADATA or PKG-INFO file (headers it does not know are left out)."""
    raw, _unparsed = parse_email(data)
    return raw


# The upload form's names for core metadata fields (twine's), where they differ from
# packaging's RawMetadata keys.
_FORM_SINGLE_FIELDS = (
    "metadata_version",
    "name",
    "version",
    "summary",
    "description",
    "description_content_type",
    "home_page",
    "download_url",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "license",
    "license_expression",
    "requires_python",
)
_FORM_LIST_FIELDS = {
    "platform": "platforms",
    "supported_platform": "supported_platforms",
    "classifiers": "classifiers",
    "requires": "requires",
    "provides": "provides",
    "obsoletes": "obsoletes",
    "requires_dist": "requires_dist",
    "provides_dist": "provides_dist",
    "obsoletes_dist": "obsoletes_dist",
    "requires_external": "requires_external",
    "provides_extra": "provides_extra",
    "dynamic": "dynamic",
    "license_file": "license_files",
    "import_name": "import_names",
    "import_namespace": "import_namespaces",
}


def metadata_from_form(fields: Mapping[str, Sequence[str]]) -> RawMetadata:
    """Core metadata from the upload form's fields (each name with all its values)."""
    raw: dict[str, object] = {}
    for name in _FORM_SINGLE_FIELDS:
        values = [value for value in fields.get(name, ()) if value]
        if values:
            raw[name] = values[0]
    for form_name, key in _FORM_LIST_FIELDS.items():
        values = [value.strip() for value in fields.get(form_name, ()) if value.strip()]
        if values:
            raw[key] = values
    # Older clients send keywords as one comma-separated string, newer ones one per field.
    keywords = [word.strip() for value in fields.get("keywords", ()) for word in value.split(",")]
    if any(keywords):
        raw["keywords"] = [word for word in keywords if word]
    urls: dict[str, str] = {}
    for value in fields.get("project_urls", ()):
        label, separator, url = value.partition(",")
        if not separator or not label.strip() or not url.strip():
            raise invalid_value("project_urls", "Send each project URL as 'label, URL'.")
        urls[label.strip()] = url.strip()
    if urls:
        raw["project_urls"] = urls
    return cast("RawMetadata", raw)
