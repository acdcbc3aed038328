"""services.uploads.errors: how a refusal is worded for the uploader."""

from __future__ import annotations

from wheelyard.services.uploads.errors import UploadError, invalid_value


def test_a_refusal_is_a_400_unless_told_otherwise() -> None:
    error = UploadError("No.")
    assert (error.message, error.status, str(error)) == ("No.", 400, "No.")
    assert UploadError("Not yours.", status=403).status == 403


def test_an_invalid_field_is_worded_as_pypi_words_it() -> None:
    error = invalid_value("summary", "Use at most 512 characters.")
    assert error.message == "Invalid value for summary. Error: Use at most 512 characters."
    assert error.status == 400
