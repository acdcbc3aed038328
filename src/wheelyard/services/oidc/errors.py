"""A refused token exchange, with PyPI's error codes (what twine and uv print)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    NOT_ENABLED = "not-enabled"
    INVALID_PAYLOAD = "invalid-payload"
    INVALID_TOKEN = "invalid-token"  # noqa: S105 (a code, not a secret)
    INVALID_PUBLISHER = "invalid-publisher"
    INVALID_REUSE_TOKEN = "invalid-reuse-token"  # noqa: S105 (a code, not a secret)
    INVALID_PENDING_PUBLISHER = "invalid-pending-publisher"


class MintError(Exception):
    """The exchange is refused; nothing was stored."""

    def __init__(self, code: Code, description: str) -> None:
        super().__init__(f"{code.value}: {description}")
        self.code = code
        self.description = description
