"""Trusted publishers: which CI workflows may upload to which project, and matching a
verified token's claims against them (as PyPI matches its publishers).

GitHub and GitLab publishers are matched on the claims those issuers put in every job's
token; a publisher for any other issuer lists the claims that must be there, exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.data.trusted_publisher import PublisherKind, TrustedPublisher
from wheelyard.services import audit
from wheelyard.services.audit import Origin
from wheelyard.services.naming import is_valid_project_name, normalize_name

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
MAX_FIELD = 256
MAX_CLAIMS = 20
NO_ORIGIN = Origin()


class PublisherError(ValueError):
    """A publisher that cannot be added as asked; the message is for the user."""


@dataclass(frozen=True)
class PublisherSpec:
    """What the CLI or the manage page asks for, before it is checked."""

    kind: PublisherKind
    repository: str | None = None
    workflow: str | None = None
    environment: str | None = None
    owner_id: str | None = None
    issuer: str | None = None
    claims: Mapping[str, str] = field(default_factory=dict)


def trusted_issuers(extra: tuple[str, ...]) -> frozenset[str]:
    """GitHub's and GitLab.com's issuers, and those the operator listed."""
    return frozenset({GITHUB_ISSUER, GITLAB_ISSUER, *extra})


def add(
    db: Session,
    project_name: str,
    spec: PublisherSpec,
    *,
    issuers: frozenset[str],
    added_by: int | None,
    origin: Origin = NO_ORIGIN,
    via: str = "",
    pending_only: bool = False,
) -> TrustedPublisher:
    """A new publisher for ``project_name``, pending when there is no such project yet;
    the audit trail records it (``via``: how, "command line"). ``pending_only``: refused
    for a project that exists (whoever asks need not own it)."""
    project_name = project_name.strip()
    if not is_valid_project_name(project_name):
        raise PublisherError(f"{project_name!r} is not a valid project name.")
    project_id = normalize_name(project_name)
    package = db.get(Package, project_id)
    if package is not None and pending_only:
        raise PublisherError(
            f"A project named {project_name!r} exists already: its owners add publishers "
            "on its manage page."
        )
    publisher = _checked(spec, issuers)
    publisher.project_id = project_id
    publisher.project_name = package.name if package is not None else project_name
    publisher.pending = package is None
    publisher.added_by = added_by
    for other in for_project(db, project_id):
        if describe(other) == describe(publisher) and other.issuer == publisher.issuer:
            raise PublisherError(f"{project_name} already has that publisher.")
    db.add(publisher)
    db.flush()
    _record(db, audit.Action.PUBLISHER_ADDED, publisher, added_by, origin, via)
    return publisher


def existing_project(db: Session, project_id: str) -> str | None:
    """``project_id`` when that project exists: what an audit row may point at."""
    return project_id if db.get(Package, project_id) is not None else None


def _record(
    db: Session,
    action: audit.Action,
    publisher: TrustedPublisher,
    actor_id: int | None,
    origin: Origin,
    via: str,
) -> None:
    pending = ", pending" if publisher.pending else ""
    how = f" ({via})" if via else ""
    audit.record(
        db,
        action,
        origin=origin,
        user_id=actor_id,
        package_id=existing_project(db, publisher.project_id),
        detail=f"trusted publisher {publisher.id}{pending}: {describe(publisher)}{how}",
    )


def _checked(spec: PublisherSpec, issuers: frozenset[str]) -> TrustedPublisher:
    environment = _optional(spec.environment, "environment")
    if spec.kind is PublisherKind.GITHUB:
        repository = _owner_repo(spec.repository, "OWNER/REPO")
        workflow = _required(spec.workflow, "workflow file")
        if "/" in workflow:
            raise PublisherError(
                "Give the workflow's file name (release.yml), not a path: it lives in "
                ".github/workflows/."
            )
        owner_id = _optional(spec.owner_id, "owner id")
        if owner_id is not None and not owner_id.isdigit():
            raise PublisherError("The owner id is GitHub's number for the owner.")
        issuer = _issuer(spec.issuer or GITHUB_ISSUER, issuers)
        return TrustedPublisher(
            kind=spec.kind,
            issuer=issuer,
            repository=repository,
            workflow=workflow,
            environment=environment,
            owner_id=owner_id,
            claims={},
        )
    if spec.kind is PublisherKind.GITLAB:
        repository = _owner_repo(spec.repository, "NAMESPACE/PROJECT", nested=True)
        workflow = _required(spec.workflow, "CI file path").lstrip("/")
        issuer = _issuer(spec.issuer or GITLAB_ISSUER, issuers)
        return TrustedPublisher(
            kind=spec.kind,
            issuer=issuer,
            repository=repository,
            workflow=workflow,
            environment=environment,
            claims={},
        )
    if spec.issuer is None:
        raise PublisherError("Give the issuer's URL.")
    if not spec.claims:
        raise PublisherError("Give at least one claim that must match (NAME=VALUE).")
    if len(spec.claims) > MAX_CLAIMS:
        raise PublisherError(f"At most {MAX_CLAIMS} claims.")
    claims: dict[str, Any] = {}
    for name, value in spec.claims.items():
        name = name.strip()
        if not name or len(name) > MAX_FIELD or len(value) > MAX_FIELD:
            raise PublisherError(f"The claim {name!r} is empty or too long.")
        if name in {"iss", "aud", "exp", "nbf", "iat", "jti"}:
            raise PublisherError(f"{name!r} is checked for every token; name other claims.")
        claims[name] = value
    return TrustedPublisher(kind=spec.kind, issuer=_issuer(spec.issuer, issuers), claims=claims)


def _issuer(url: str, issuers: frozenset[str]) -> str:
    url = url.strip().rstrip("/")
    if url not in issuers:
        raise PublisherError(
            f"The issuer {url!r} is not trusted by this index: its operator lists the "
            "issuers it trusts in WHEELYARD_OIDC_ISSUERS."
        )
    return url


def _required(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise PublisherError(f"Give the {what}.")
    if len(text) > MAX_FIELD:
        raise PublisherError(f"The {what} is longer than {MAX_FIELD} characters.")
    return text


def _optional(value: str | None, what: str) -> str | None:
    return _required(value, what) if value and value.strip() else None


def _owner_repo(value: str | None, shape: str, *, nested: bool = False) -> str:
    text = _required(value, shape)
    parts = text.split("/")
    if len(parts) < 2 or (len(parts) > 2 and not nested) or not all(parts):
        raise PublisherError(f"Give the repository as {shape}, not {text!r}.")
    return text


def for_project(db: Session, project_id: str) -> list[TrustedPublisher]:
    query = (
        sa.select(TrustedPublisher)
        .where(TrustedPublisher.project_id == project_id)
        .order_by(TrustedPublisher.id)
    )
    return list(db.scalars(query))


def all_publishers(db: Session) -> list[TrustedPublisher]:
    query = sa.select(TrustedPublisher).order_by(TrustedPublisher.project_id, TrustedPublisher.id)
    return list(db.scalars(query))


def remove(
    db: Session,
    project_id: str,
    publisher_id: int,
    *,
    actor_id: int | None,
    origin: Origin = NO_ORIGIN,
    via: str = "",
) -> TrustedPublisher | None:
    """Delete the project's publisher ``publisher_id``; None when it has no such one."""
    publisher = db.get(TrustedPublisher, publisher_id)
    if publisher is None or publisher.project_id != project_id:
        return None
    db.delete(publisher)
    db.flush()
    _record(db, audit.Action.PUBLISHER_REMOVED, publisher, actor_id, origin, via)
    return publisher


def pending_of(db: Session, user_id: int) -> list[TrustedPublisher]:
    """The pending publishers ``user_id`` added, whose projects do not exist yet."""
    query = (
        sa.select(TrustedPublisher)
        .where(TrustedPublisher.added_by == user_id, TrustedPublisher.pending.is_(True))
        .order_by(TrustedPublisher.id)
    )
    return list(db.scalars(query))


def remove_pending(
    db: Session, publisher_id: int, user_id: int, *, origin: Origin = NO_ORIGIN
) -> TrustedPublisher | None:
    """Delete a pending publisher ``user_id`` added; None when they added no such one."""
    publisher = db.get(TrustedPublisher, publisher_id)
    if publisher is None or not publisher.pending or publisher.added_by != user_id:
        return None
    return remove(db, publisher.project_id, publisher_id, actor_id=user_id, origin=origin)


def describe(publisher: TrustedPublisher) -> str:
    """What the pages and the audit trail call it: ``OWNER/REPO by release.yml``."""
    if publisher.kind is PublisherKind.OIDC:
        claims = ", ".join(f"{name}={value}" for name, value in sorted(publisher.claims.items()))
        return f"{publisher.issuer} ({claims})"
    text = f"{publisher.repository} by {publisher.workflow}"
    if publisher.environment:
        text += f" (environment {publisher.environment})"
    if publisher.kind is PublisherKind.GITLAB and publisher.issuer != GITLAB_ISSUER:
        text += f" on {urlsplit(publisher.issuer).netloc}"
    elif publisher.kind is PublisherKind.GITHUB and publisher.issuer != GITHUB_ISSUER:
        text += f" on {publisher.issuer}"
    return text


# --- matching ---------------------------------------------------------------------------------


def matching(
    db: Session, issuer: str, claims: Mapping[str, Any], project_id: str | None = None
) -> list[TrustedPublisher]:
    """The publishers (of ``project_id``, or of any project) the verified claims match.

    A pending publisher whose project someone else has created since matches nothing.
    """
    query = sa.select(TrustedPublisher).where(TrustedPublisher.issuer == issuer)
    if project_id is not None:
        query = query.where(TrustedPublisher.project_id == project_id)
    found = []
    for publisher in db.scalars(query.order_by(TrustedPublisher.id)):
        if not matches(publisher, claims):
            continue
        if publisher.pending and db.get(Package, publisher.project_id) is not None:
            continue
        found.append(publisher)
    return found


def matches(publisher: TrustedPublisher, claims: Mapping[str, Any]) -> bool:
    if publisher.kind is PublisherKind.GITHUB:
        return _github(publisher, claims)
    if publisher.kind is PublisherKind.GITLAB:
        return _gitlab(publisher, claims)
    return all(
        isinstance(claims.get(name), str | int | bool) and str(claims[name]) == str(value)
        for name, value in publisher.claims.items()
    )


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None


def _environment(publisher: TrustedPublisher, claims: Mapping[str, Any]) -> bool:
    if publisher.environment is None:
        return True
    environment = _text(claims, "environment")
    return environment is not None and environment.lower() == publisher.environment.lower()


def _github(publisher: TrustedPublisher, claims: Mapping[str, Any]) -> bool:
    repository = (publisher.repository or "").lower()
    if (_text(claims, "repository") or "").lower() != repository:
        return False
    if publisher.owner_id is not None and str(claims.get("repository_owner_id")) != str(
        publisher.owner_id
    ):
        return False
    # The workflow that runs (workflow_ref), or the reusable one it calls (job_workflow_ref),
    # must be the named file of this repository, at whatever ref.
    prefix = f"{repository}/.github/workflows/{publisher.workflow}@"
    refs = [_text(claims, "workflow_ref"), _text(claims, "job_workflow_ref")]
    if not any(ref is not None and ref.lower().startswith(prefix.lower()) for ref in refs):
        return False
    return _environment(publisher, claims)


def _gitlab(publisher: TrustedPublisher, claims: Mapping[str, Any]) -> bool:
    repository = (publisher.repository or "").lower()
    if (_text(claims, "project_path") or "").lower() != repository:
        return False
    host = urlsplit(publisher.issuer).netloc.lower()
    prefix = f"{host}/{repository}//{publisher.workflow}@"
    ref = _text(claims, "ci_config_ref_uri")
    if ref is None or not ref.lower().startswith(prefix.lower()):
        return False
    return _environment(publisher, claims)
