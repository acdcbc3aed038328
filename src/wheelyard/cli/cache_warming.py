"""The work of ``wheelyard cache warm``: one requirement's page and files fetched and kept.

The command owns the transactions: none is held across a fetch from the upstream.
"""

from __future__ import annotations

from types import TracebackType

import click
from packaging.requirements import Requirement
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.config import Settings
from wheelyard.data.db_session import transaction
from wheelyard.services import clock
from wheelyard.services.access import visibility
from wheelyard.services.naming import normalize_name
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.upstream import fetch, files, pages
from wheelyard.services.upstream.fetch import Unreachable, fetch_project
from wheelyard.services.upstream.pages import CachedPage
from wheelyard.services.upstream.policy import Policy
from wheelyard.services.upstream.sources import is_blocked, upstreams
from wheelyard.services.upstream.warming import choose
from wheelyard.storage.factory import create_storage


class Warmer:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.upstreams = upstreams(settings.upstream_urls)
        self.policy = Policy(
            settings.upstream_allow, settings.upstream_deny, settings.upstream_min_age
        )
        self.storage = create_storage(settings)
        self.http = fetch.client(settings.upstream_timeout)
        self.fetched = 0
        self.fetched_bytes = 0

    def __enter__(self) -> Warmer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.http.close()

    def warm(self, requirement: Requirement) -> str | None:
        """Fetch what the requirement needs; the reason it could not, or None."""
        project_id = normalize_name(requirement.name)
        if is_blocked(project_id, self.settings.upstream_block):
            return "blocked from the upstreams (WHEELYARD_UPSTREAM_BLOCK)"
        refusal = self.policy.refusal(project_id)
        if refusal is not None:
            return refusal
        with transaction(self.sessions, writes=False) as db:
            local = visibility.visibility_of(db, project_id) is not None
        if local:
            click.echo(f"{requirement}: a local project, nothing to fetch")
            return None
        page = self._page(project_id)
        if isinstance(page, str):
            return page
        screened = self.policy.screen(page.listing, clock.now())
        try:
            version, chosen = choose(screened.listing, requirement)
        except LookupError as error:
            held = f" ({len(screened.held)} files held back)" if screened.held else ""
            return f"{error}{held}"
        click.echo(f"{requirement}: {project_id} {version} from {page.source}")
        names = [file.filename for file in chosen]
        names += [f.filename + METADATA_SUFFIX for f in chosen if f.metadata_sha256]
        for name in names:
            failure = self._file(page, name)
            if failure is not None:
                return failure
        return None

    def _page(self, project_id: str) -> CachedPage | str:
        with transaction(self.sessions, writes=False) as db:
            page = pages.cached(db, project_id)
        now = clock.now()
        if page is not None and page.is_fresh(self.settings.upstream_ttl, now):
            return page
        known = page.known if page is not None else None
        outcome = fetch_project(self.http, self.upstreams, project_id, known)
        if isinstance(outcome, Unreachable):
            if page is None:
                return outcome.reason
            click.echo(f"{project_id}: using the cached page: {outcome.reason}")
            return page
        with transaction(self.sessions) as db:
            current = pages.settle(db, project_id, outcome, page, now)
        if current is None:
            return f"no upstream index has a project named {project_id!r}"
        return current

    def _file(self, page: CachedPage, filename: str) -> str | None:
        with transaction(self.sessions, writes=False) as db:
            kept = files.stored(db, filename)
        if kept is not None:
            click.echo(f"  cached already: {filename}")
            return None
        want = files.wanted(page, filename)
        if want is None:
            return f"the upstream's page no longer lists {filename}"
        upstream = next((u for u in self.upstreams if u.url == page.source), None)
        try:
            stored = files.fetch(self.http, self.storage, want, upstream)
        except files.FetchFailed as failure:
            return failure.reason
        with transaction(self.sessions) as db:
            files.record(db, page.project_id, stored, clock.now())
        self.fetched += 1
        self.fetched_bytes += stored.size
        click.echo(f"  fetched {filename} ({stored.size:,} bytes)")
        return None
