"""CSRF protection: a per-session secret carried as a hidden field by every form."""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request

FIELD = "csrf_token"
_SESSION_KEY = "csrf"

# Forms here are small; these bounds refuse oversized bodies before they are buffered.
MAX_FIELDS = 50
MAX_PART_SIZE = 64 * 1024


def token_for(request: HTTPConnection) -> str:
    token = request.session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


async def verified_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token matches the session's; 403 otherwise."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_PART_SIZE)
    except HTTPException:
        raise
    except Exception as error:  # multipart parser errors carry their own exception types
        raise HTTPException(400, "The form could not be read.") from error
    expected = request.session.get(_SESSION_KEY)
    submitted = form.get(FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(submitted, str)
        or not hmac.compare_digest(expected.encode(), submitted.encode())
    ):
        raise HTTPException(403, "CSRF token missing or incorrect. Reload the page and try again.")
    return form
