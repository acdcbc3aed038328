"""What an upload client sends the legacy upload API: the form fields and the Basic header."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request

from httpx2 import Response
from packaging.metadata import parse_email
from starlette.testclient import TestClient

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


def multipart_body(dist: Dist) -> tuple[bytes, str]:
    """``dist`` and its twine fields as a multipart body, and the Content-Type naming it."""
    boundary = "wheelyard-test-boundary"
    parts = []
    for name, values in twine_fields(dist).items():
        for value in values:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{dist.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + dist.content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post_upload(base_url: str, dist: Dist, username: str, password: str) -> tuple[int, str]:
    """Upload ``dist`` to a live server's ``/legacy/`` as twine would: (status, body)."""
    body, content_type = multipart_body(dist)
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(
        f"{base_url}/legacy/",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Basic {credentials}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def post_dist(client: TestClient, dist: Dist, headers: dict[str, str]) -> Response:
    """POST ``dist`` to the app's /legacy/ as twine does (fields, file, Basic header)."""
    files = {"content": (dist.filename, dist.content, "application/octet-stream")}
    return client.post("/legacy/", data=twine_fields(dist), files=files, headers=headers)
