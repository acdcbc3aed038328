"""HTTP basic credentials as pip, uv and twine send them: a username and a password.

The username ``__token__`` announces an API token as the password (as on PyPI); any other
username is an account's email.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

TOKEN_USERNAME = "__token__"  # noqa: S105 (the username that announces a token, as on PyPI)
# Credentials longer than this are not ours; refused before any decoding or hashing.
MAX_HEADER_LENGTH = 4096


class MalformedCredentials(ValueError):
    """An Authorization header that is there but is not valid basic auth."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    @property
    def is_token(self) -> bool:
        return self.username == TOKEN_USERNAME


def parse_basic(header: str | None) -> Credentials | None:
    """Credentials from an ``Authorization: Basic ...`` header; None when none was sent."""
    if not header:
        return None
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedCredentials("credentials too long")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise MalformedCredentials("not basic auth")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise MalformedCredentials("not base64 of UTF-8") from error
    username, separator, password = decoded.partition(":")
    if not separator:
        raise MalformedCredentials("no password")
    if "\0" in username + password:
        # No email or token holds a NUL, and PostgreSQL refuses to even look one up.
        raise MalformedCredentials("NUL in credentials")
    return Credentials(username, password)
