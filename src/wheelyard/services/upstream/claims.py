"""Whether an upstream already has a project of a name, before that name is taken here.

A new local project named like an upstream one would hide the upstream's (local names win,
services/upstream/pages.py), which is what a dependency-confusion attack against the
upstream's users, or a typo'd internal name, looks like; so it is refused unless a site
admin means it, or the name is blocked from the upstreams anyway.
"""

from __future__ import annotations

import httpx2
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.upstream import pages
from wheelyard.services.upstream.fetch import Fetched, Missing, Unchanged, fetch_project
from wheelyard.services.upstream.sources import Upstream, is_blocked


class UpstreamUnknown(Exception):
    """The upstreams could not be asked; the name cannot be vouched for."""


def needs_check(db: Session, project_id: str, patterns: tuple[str, ...]) -> bool:
    """Whether an upload under this name would create a project an upstream may have."""
    return db.get(Package, project_id) is None and not is_blocked(project_id, patterns)


def cached_claim(db: Session, project_id: str) -> str | None:
    page = pages.cached(db, project_id)
    return page.source if page is not None else None


def upstream_claim(
    http: httpx2.Client, upstreams: tuple[Upstream, ...], project_id: str
) -> str | None:
    """The upstream index that has the project, or None; raises UpstreamUnknown."""
    outcome = fetch_project(http, upstreams, project_id)
    if isinstance(outcome, Fetched | Unchanged):
        return outcome.source
    if isinstance(outcome, Missing):
        return None
    raise UpstreamUnknown(outcome.reason)


def refusal_message(name: str, source: str) -> str:
    return (
        f"The name {name!r} is a project on the upstream index {source}; a local project of "
        "that name would hide it. Choose another name, or ask a site admin to create it "
        "(or to block the name from the upstream with WHEELYARD_UPSTREAM_BLOCK)."
    )
