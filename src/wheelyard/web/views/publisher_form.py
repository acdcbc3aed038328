"""The trusted publisher form, as the manage page and the account's publishing page send it."""

from __future__ import annotations

from starlette.datastructures import FormData

from wheelyard.data.trusted_publisher import PublisherKind
from wheelyard.services.oidc.publishers import PublisherError, PublisherSpec

# Longer than any field a publisher keeps: such input cannot be one.
_MAX_FIELD = 1000


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or len(value) > _MAX_FIELD:
        return ""
    return value.strip()


def _claims(text: str) -> dict[str, str]:
    claims = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise PublisherError(f"Write each claim as NAME=VALUE, not {line.strip()!r}.")
        claims[name.strip()] = value.strip()
    return claims


def spec_from_form(form: FormData) -> PublisherSpec:
    """What the form asks for; PublisherError when it cannot even be read."""
    try:
        kind = PublisherKind(_text(form, "kind"))
    except ValueError:
        raise PublisherError("Choose GitHub, GitLab or another OIDC issuer.") from None
    other = kind is PublisherKind.OIDC
    return PublisherSpec(
        kind=kind,
        repository=None if other else _text(form, "repository"),
        workflow=None if other else _text(form, "workflow"),
        environment=None if other else _text(form, "environment") or None,
        owner_id=_text(form, "owner_id") or None if kind is PublisherKind.GITHUB else None,
        issuer=_text(form, "issuer") or None,
        claims=_claims(_text(form, "claims")) if other else {},
    )
