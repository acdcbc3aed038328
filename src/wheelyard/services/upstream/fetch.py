"""Asking the upstreams, in order, for one project's page.

The first upstream that has the project wins. A page fetched before is revalidated at the
upstream that gave it, with its ETag, so an unchanged page costs a 304 and no parsing.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from wheelyard.services.upstream.documents import UpstreamListing, UpstreamPageError, parse_page
from wheelyard.services.upstream.sources import Upstream

# JSON first (PEP 691): it carries sizes and upload times that HTML lacks.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
# A project page larger than this is refused rather than held in memory.
MAX_PAGE_BYTES = 32 * 1024 * 1024
USER_AGENT = "wheelyard (pull-through cache)"


@dataclass(frozen=True, slots=True)
class Fetched:
    source: str  # the upstream index's URL (no credentials)
    etag: str | None
    listing: UpstreamListing


@dataclass(frozen=True, slots=True)
class Unchanged:
    source: str


@dataclass(frozen=True, slots=True)
class Missing:
    """No upstream has the project."""


@dataclass(frozen=True, slots=True)
class Unreachable:
    reason: str
    timed_out: bool


Outcome = Fetched | Unchanged | Missing | Unreachable


@dataclass(frozen=True, slots=True)
class Known:
    """What the cache holds of the page: where it came from and its validator."""

    source: str
    etag: str | None


def client(timeout: float) -> httpx2.Client:
    return httpx2.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})


def _read_limited(response: httpx2.Response) -> bytes:
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > MAX_PAGE_BYTES:
            raise UpstreamPageError(f"page larger than {MAX_PAGE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _ask(
    http: httpx2.Client, upstream: Upstream, project_id: str, known: Known | None
) -> Outcome | None:
    """One upstream's answer; None when it does not have the project."""
    headers = {"Accept": ACCEPT}
    if known is not None and known.source == upstream.url and known.etag:
        headers["If-None-Match"] = known.etag
    url = upstream.project_url(project_id)
    try:
        with http.stream("GET", url, headers=headers, auth=upstream.auth) as response:
            if response.status_code == 304:
                return Unchanged(upstream.url)
            if response.status_code in {404, 410}:
                return None
            if response.status_code != 200:
                return Unreachable(f"{upstream.url} answered {response.status_code}", False)
            body = _read_limited(response)
            listing = parse_page(body, response.headers.get("content-type", ""), str(response.url))
            return Fetched(upstream.url, response.headers.get("etag"), listing)
    except httpx2.TimeoutException:
        return Unreachable(f"{upstream.url} did not answer in time", True)
    except httpx2.HTTPError as error:
        return Unreachable(f"{upstream.url} unreachable: {type(error).__name__}", False)
    except UpstreamPageError as error:
        return Unreachable(f"{upstream.url} sent an unreadable page: {error}", False)


def fetch_project(
    http: httpx2.Client,
    upstreams: tuple[Upstream, ...],
    project_id: str,
    known: Known | None = None,
) -> Outcome:
    failure: Unreachable | None = None
    for upstream in upstreams:
        outcome = _ask(http, upstream, project_id, known)
        if outcome is None:
            continue
        if isinstance(outcome, Unreachable):
            # A later upstream may still have it; the first failure is the one reported.
            failure = failure or outcome
            continue
        return outcome
    return failure or Missing()
