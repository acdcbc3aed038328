"""Answers several account pages give alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from wheelyard.services.accounts import rate_limit
from wheelyard.web.templating import render

# Pages that show a secret (recovery codes, a reset link's form) or the account's security
# events must not be kept in any browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store"}


def too_many(
    request: Request, template: str, limit: rate_limit.Throttle, **context: object
) -> Response:
    """``template`` as a 429, telling the client when a new try can count."""
    return render(
        request,
        template,
        status_code=429,
        headers={"Retry-After": str(limit.retry_after_seconds)},
        **context,
    )
