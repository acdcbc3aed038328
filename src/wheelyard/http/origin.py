"""Where a request came from, as the audit trail records it.

The web pages and the upload API both leave audit rows; they read the client the same way
so that one person's sign-ins, uploads and refusals line up in the trail.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from wheelyard.services.audit import Origin


def client_origin(request: HTTPConnection) -> Origin:
    """The client's address and the User-Agent it sent.

    The address is None where the server knows none (a Unix socket, some test clients).
    """
    client = request.client
    return Origin(
        ip_address=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
    )
