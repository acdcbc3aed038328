"""A real OIDC issuer on loopback, and GitHub Actions' token endpoint, for trusted publishing.

``Issuer`` serves ``/.well-known/openid-configuration`` and the JWKS it names from a thread
of the test's own process, with RSA keys the test makes (``cryptography``), and signs JWTs
with them (PyJWT). ``/actions-token`` answers as GitHub Actions' ID token endpoint does
(``ACTIONS_ID_TOKEN_REQUEST_URL`` with ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` as bearer):
``{"value": <jwt>}`` for the audience the client asks, with the claims the test set.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

REPOSITORY = "acme/widgets"
WORKFLOW = "release.yml"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issuer:
    url: str
    # kid -> key; the JWKS publishes the public halves of all of them.
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    # What /actions-token puts in the JWTs it hands out.
    actions_claims: dict[str, Any] = field(default_factory=dict)
    actions_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    fetches: list[str] = field(default_factory=list)

    @property
    def kid(self) -> str:
        return next(iter(self.keys))

    def jwks(self) -> dict[str, Any]:
        found = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            found.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": found}

    def token(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        audience: str = "wheelyard",
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        lifetime: int = 300,
        issued_at: int | None = None,
        **extra: Any,
    ) -> str:
        """A signed JWT as GitHub Actions makes them, for ``acme/widgets``'s release.yml
        unless ``claims`` say otherwise."""
        now = int(time.time()) if issued_at is None else issued_at
        kid = kid or self.kid
        payload: dict[str, Any] = {
            **github_claims(),
            "iss": self.url,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            **(claims or {}),
            **extra,
        }
        signing_key = key or self.keys[kid]
        return jwt.encode(payload, signing_key, algorithm="RS256", headers={"kid": kid})

    def actions_env(self) -> dict[str, str]:
        """What a GitHub Actions job with ``id-token: write`` has in its environment."""
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/actions-token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.actions_secret,
        }


def github_claims(repository: str = REPOSITORY, workflow: str = WORKFLOW) -> dict[str, Any]:
    owner = repository.split("/")[0]
    ref = f"{repository}/.github/workflows/{workflow}@refs/heads/main"
    return {
        "sub": f"repo:{repository}:ref:refs/heads/main",
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "4242",
        "workflow_ref": ref,
        "job_workflow_ref": ref,
        "ref": "refs/heads/main",
        "sha": "0" * 40,
        "run_id": "1",
        "run_attempt": "1",
    }


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            issuer.fetches.append(parts.path)
            if parts.path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "response_types_supported": ["id_token"],
                        "subject_types_supported": ["public"],
                    }
                )
            elif parts.path == "/jwks":
                self._json(issuer.jwks())
            elif parts.path == "/actions-token":
                scheme, _, secret = (self.headers.get("Authorization") or "").partition(" ")
                if scheme.lower() != "bearer" or secret != issuer.actions_secret:
                    self._json({"message": "bad request token"}, 401)
                    return
                audience = parse_qs(parts.query).get("audience", [""])[0]
                self._json({"value": issuer.token(issuer.actions_claims, audience=audience)})
            else:
                self._json({"message": "not found"}, 404)

        def _json(self, document: object, status: int = 200) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read ``fetches`` instead

    return Handler


@contextmanager
def running_issuer() -> Iterator[Issuer]:
    """An issuer answering on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    issuer = Issuer(url=f"http://127.0.0.1:{server.server_address[1]}")
    issuer.keys[f"key-{uuid.uuid4().hex[:8]}"] = new_key()
    server.RequestHandlerClass = _handler(issuer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
