"""PyPI's trusted publishing endpoints: ``/_/oidc/audience`` and ``/_/oidc/mint-token``.

twine, ``uv publish`` and the PyPA publish action ask the audience, get a token for it from
their CI (GitHub Actions, GitLab...), and trade that token here for a 15-minute upload
token. A refusal is 422 with PyPI's body and error codes, which those clients print.
The token is verified (keys fetched from its issuer, perhaps) before the transaction
begins, so no write lock waits on the network.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services.oidc import minting, publishers, verify
from wheelyard.services.oidc.errors import Code, MintError

NOT_ENABLED = "Trusted publishing functionality not enabled"
MAX_BODY = 64 * 1024


def _failure(error: MintError) -> Response:
    body = {
        "message": "Token request failed",
        "errors": [{"code": error.code.value, "description": error.description}],
    }
    return JSONResponse(body, status_code=422)


async def audience(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.trusted_publishing:
        return JSONResponse({"message": NOT_ENABLED}, status_code=403)
    return JSONResponse({"audience": settings.audience})


async def mint_token(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        if not settings.trusted_publishing:
            raise MintError(Code.NOT_ENABLED, NOT_ENABLED)
        token = _token(await _body(request))
        return await run_in_threadpool(_mint, request, token)
    except MintError as error:
        return _failure(error)


async def _body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise MintError(Code.INVALID_PAYLOAD, "the request body is too large")
    return body


def _token(body: bytes) -> str:
    try:
        payload: Any = json.loads(body)
    except ValueError:
        raise MintError(Code.INVALID_PAYLOAD, "payload is not valid JSON") from None
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        raise MintError(Code.INVALID_PAYLOAD, 'payload has no "token" string')
    return token


def _mint(request: Request, token: str) -> Response:
    settings: Settings = request.app.state.settings
    claims = verify.verified_claims(
        token,
        keys=request.app.state.issuer_keys,
        audience=settings.audience,
        issuers=publishers.trusted_issuers(settings.oidc_issuers),
    )
    with transaction(request) as db:
        minted = minting.mint(db, claims, origin=client_origin(request))
    return JSONResponse(
        {"success": True, "token": minted.secret, "expires": int(minted.token.expires.timestamp())}
    )


routes: list[BaseRoute] = [
    Route("/_/oidc/audience", audience, methods=["GET"]),
    Route("/_/oidc/mint-token", mint_token, methods=["POST"]),
    # PyPI's first URL for it, when GitHub was the only issuer.
    Route("/_/oidc/github/mint-token", mint_token, methods=["POST"]),
]
