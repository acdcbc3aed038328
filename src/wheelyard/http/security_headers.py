"""Security headers on every response, as a pure ASGI middleware (no per-request objects).

The one answer the middleware cannot reach is the 500 page: Starlette renders it in its
outermost layer, outside every middleware of the app, so that page adds ``ALL_HEADERS``
itself.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# README images are often hosted elsewhere (badges), so images may come from any https host;
# everything else, scripts and styles included, only from here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

CSP_HEADER = b"content-security-policy"
HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]

# The same headers for a response built by hand (the 500 page).
ALL_HEADERS: dict[str, str] = {
    CSP_HEADER.decode(): CONTENT_SECURITY_POLICY,
    **{name.decode(): value.decode() for name, value in HEADERS},
}


# The same headers as raw ASGI pairs, for responses whose headers are built once and kept
# (the cached pages of api/fast_path.py).
RAW_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (CSP_HEADER, CONTENT_SECURITY_POLICY.encode()),
    *HEADERS,
)


def with_security_headers(send: Send) -> Send:
    """``send``, adding the headers to the response's start message."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            # A response with a policy of its own (an SVG chart) keeps it: two policies
            # would both apply, and the stricter site one would break the chart.
            if not any(name.lower() == CSP_HEADER for name, _ in headers):
                headers.append((CSP_HEADER, CONTENT_SECURITY_POLICY.encode()))
            message["headers"] = headers + HEADERS
        await send(message)

    return send_with_headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, with_security_headers(send))
