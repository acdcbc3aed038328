"""The one way an upload is refused: an UploadError whose message is for the uploader."""

from __future__ import annotations


class UploadError(Exception):
    """The file is refused; ``message`` is for the uploader, ``status`` the HTTP status, and
    ``retry_after`` (seconds) when trying again later will do (a rate limit's 429)."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def invalid_value(field: str, detail: str) -> UploadError:
    """A refusal of one form field, worded as PyPI words it (twine shows it as is)."""
    return UploadError(f"Invalid value for {field}. Error: {detail}")
