"""The one way an upload is refused: an UploadError whose message is for the uploader."""

from __future__ import annotations


class UploadError(Exception):
    """The file is refused; ``message`` is for the uploader, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def invalid_value(field: str, detail: str) -> UploadError:
    """A refusal of one form field, worded as PyPI words it (twine shows it as is)."""
    return UploadError(f"Invalid value for {field}. Error: {detail}")
