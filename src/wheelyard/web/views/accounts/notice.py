"""A one-time notice for the next account page, carried in the session across a redirect.

A form that succeeds answers with a redirect (so a reload does not post it again); the page
it lands on says what happened.
"""

from __future__ import annotations

from starlette.requests import Request

_NOTICE = "account_notice"


def flash(request: Request, message: str) -> None:
    request.session[_NOTICE] = message


def take_notice(request: Request) -> str | None:
    """The waiting notice, if any; shown once, so taking it removes it."""
    notice = request.session.pop(_NOTICE, None)
    return notice if isinstance(notice, str) else None
