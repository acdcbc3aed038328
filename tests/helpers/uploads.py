"""What an upload client sends the legacy upload API: the form fields and the Basic header."""

from __future__ import annotations

import base64
import hashlib

from packaging.metadata import parse_email

from tests.helpers.dists import Dist, Project

# Core metadata field names as twine's upload form spells them, where they differ.
TWINE_FORM_NAMES = {
    "platforms": "platform",
    "supported_platforms": "supported_platform",
    "license_files": "license_file",
}


def basic_auth(username: str, password: str) -> dict[str, str]:
    """The Authorization header for HTTP Basic, as twine sends an account or a token."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def twine_fields(dist: Dist) -> dict[str, list[str]]:
    """The form fields twine sends with ``dist``: every core metadata field, and the hashes."""
    raw, _ = parse_email(dist.metadata)
    fields: dict[str, list[str]] = {}
    for key, value in raw.items():
        name = TWINE_FORM_NAMES.get(key, key)
        if isinstance(value, dict):
            fields["project_urls"] = [f"{label}, {url}" for label, url in value.items()]
        elif isinstance(value, list):
            fields[name] = list(value)
        else:
            fields[name] = [str(value)]
    is_wheel = dist.filename.endswith(".whl")
    fields.update(
        {
            ":action": ["file_upload"],
            "protocol_version": ["1"],
            "filetype": ["bdist_wheel" if is_wheel else "sdist"],
            "pyversion": ["py3" if is_wheel else "source"],
            "sha256_digest": [dist.sha256],
            "blake2_256_digest": [hashlib.blake2b(dist.content, digest_size=32).hexdigest()],
        }
    )
    return fields


def upload_form(dist: Dist, project: Project) -> dict[str, str]:
    """The few fields the upload API needs for ``dist`` (the file goes apart).

    For tests about serving uploads under load or faults, where the metadata is beside
    the point; ``twine_fields`` is the whole form.
    """
    is_sdist = dist.filename.endswith(".tar.gz")
    return {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": project.metadata_version,
        "name": project.name,
        "version": project.version,
        "summary": project.summary,
        "filetype": "sdist" if is_sdist else "bdist_wheel",
        "pyversion": "source" if is_sdist else "py3",
        "sha256_digest": dist.sha256,
    }
