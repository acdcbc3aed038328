"""Refuse requests whose Host header names a host this server does not serve.

Starlette builds ``request.base_url`` and every absolute link from the Host header, which the
client chooses. Checking it against the configured names (``Settings.permitted_hosts``)
before anything else runs means no page, mail or cached answer can carry a host an outsider
picked. A request without a Host header (HTTP/1.0) passes: its URL is built from the
server's own address.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Answered for any Host: an orchestrator's probe names the server by its address, and these
# answers carry no link.
ANY_HOST_PATHS = frozenset({"/_health/live", "/_health/ready"})

INVALID_HOST = (
    "Bad Request: this server does not answer to that Host. "
    "Its operator lists the names it serves in WHEELYARD_ALLOWED_HOSTS."
)


def host_name(header: str) -> str:
    """The host of a Host header, lower case, without port or trailing dot."""
    header = header.strip().lower()
    if header.startswith("["):  # an IPv6 literal: [::1]:8000
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0].rstrip(".") if header.count(":") <= 1 else header


def host_allowed(host: str, permitted: frozenset[str]) -> bool:
    if "*" in permitted or host in permitted:
        return True
    # "*.example.com" covers every name under example.com, not example.com itself.
    labels = host.split(".")
    return any("*." + ".".join(labels[i:]) in permitted for i in range(1, len(labels)))


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, permitted: frozenset[str]) -> None:
        self.app = app
        self.permitted = permitted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and scope["path"] not in ANY_HOST_PATHS:
            for name, value in scope["headers"]:
                if name == b"host":
                    if not host_allowed(host_name(value.decode("latin-1")), self.permitted):
                        response = PlainTextResponse(INVALID_HOST, status_code=400)
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)
