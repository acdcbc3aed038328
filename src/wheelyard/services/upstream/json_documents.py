"""An upstream's JSON API document (``/pypi/<name>/json``), cached beside its simple page.

It is asked of the upstream that gave the project's simple page, at that index's root (its
URL without the trailing ``simple/``), revalidated by ETag after the same TTL, and served
rewritten: every file URL points at wheelyard (``/packages/upstream/<project>/<file>``), and
files the policy holds back are left out, as on our simple pages.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.upsert import dialect_insert
from wheelyard.data.upstream_document import UpstreamDocument
from wheelyard.services.upstream.documents import UpstreamFile
from wheelyard.services.upstream.fetch import MAX_PAGE_BYTES, USER_AGENT
from wheelyard.services.upstream.pages import file_url
from wheelyard.services.upstream.policy import Policy
from wheelyard.services.upstream.sources import Upstream

SIMPLE_SUFFIX = "simple/"


def document_url(upstream: Upstream, project_id: str) -> str | None:
    """``<root>/pypi/<name>/json`` for an index at ``<root>/simple/``; None for another."""
    if not upstream.url.endswith("/" + SIMPLE_SUFFIX):
        return None
    return f"{upstream.url.removesuffix(SIMPLE_SUFFIX)}pypi/{project_id}/json"


@dataclass(frozen=True, slots=True)
class CachedDocument:
    project_id: str
    source: str
    etag: str | None
    body: str
    checked: dt.datetime

    def is_fresh(self, ttl_seconds: int, now: dt.datetime) -> bool:
        return now - self.checked < dt.timedelta(seconds=ttl_seconds)


@dataclass(frozen=True, slots=True)
class Fetched:
    etag: str | None
    body: str


@dataclass(frozen=True, slots=True)
class Unchanged:
    pass


@dataclass(frozen=True, slots=True)
class Missing:
    pass


@dataclass(frozen=True, slots=True)
class Unreachable:
    reason: str
    timed_out: bool


Outcome = Fetched | Unchanged | Missing | Unreachable


def fetch(
    http: httpx2.Client, upstream: Upstream, project_id: str, known: CachedDocument | None
) -> Outcome:
    url = document_url(upstream, project_id)
    if url is None:
        return Missing()
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if known is not None and known.source == upstream.url and known.etag:
        headers["If-None-Match"] = known.etag
    try:
        with http.stream("GET", url, headers=headers, auth=upstream.auth) as response:
            if response.status_code == 304 and known is not None:
                return Unchanged()
            if response.status_code in {404, 410}:
                return Missing()
            if response.status_code != 200:
                return Unreachable(f"{url} answered {response.status_code}", False)
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > MAX_PAGE_BYTES:
                    return Unreachable(f"{url} sent more than {MAX_PAGE_BYTES} bytes", False)
                chunks.append(chunk)
            body = b"".join(chunks).decode("utf-8")
            document = json.loads(body)
            if not isinstance(document, dict) or not isinstance(document.get("info"), dict):
                return Unreachable(f"{url} sent no JSON API document", False)
            return Fetched(response.headers.get("etag"), body)
    except httpx2.TimeoutException:
        return Unreachable(f"{url} did not answer in time", True)
    except httpx2.HTTPError as error:
        return Unreachable(f"{url} unreachable: {type(error).__name__}", False)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Unreachable(f"{url} sent no JSON API document", False)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def cached(db: Session, project_id: str) -> CachedDocument | None:
    row = db.get(UpstreamDocument, project_id)
    if row is None:
        return None
    return CachedDocument(row.id, row.source, row.etag, row.body, row.checked_date)


def settle(
    db: Session,
    project_id: str,
    source: str,
    outcome: Fetched | Unchanged | Missing,
    known: CachedDocument | None,
    now: dt.datetime,
) -> CachedDocument | None:
    """The cache brought in line with the upstream's answer: the document now, or None."""
    checked = _naive_utc(now)
    if isinstance(outcome, Missing):
        db.execute(sa.delete(UpstreamDocument).where(UpstreamDocument.id == project_id))
        return None
    if isinstance(outcome, Unchanged):
        assert known is not None
        db.execute(
            sa.update(UpstreamDocument)
            .where(UpstreamDocument.id == project_id)
            .values(checked_date=checked)
        )
        return CachedDocument(project_id, known.source, known.etag, known.body, checked)
    values = {"source": source, "etag": outcome.etag, "body": outcome.body, "checked_date": checked}
    insert = dialect_insert(db, UpstreamDocument).values(id=project_id, **values)
    db.execute(insert.on_conflict_do_update(index_elements=["id"], set_=values))
    return CachedDocument(project_id, source, outcome.etag, outcome.body, checked)


def _as_file(entry: dict[str, Any]) -> UpstreamFile:
    """Enough of a JSON API file entry for the policy to judge it."""
    return UpstreamFile(
        filename=str(entry.get("filename", "")),
        url="",
        sha256="",
        size=None,
        upload_time=entry.get("upload_time_iso_8601") or None,
        requires_python=None,
        yanked=False,
        yanked_reason=None,
        metadata_sha256=None,
    )


def _files(
    entries: object, project_id: str, root: str, policy: Policy, now: dt.datetime
) -> tuple[list[dict[str, Any]], int]:
    """The entries with our URLs and without held-back files; and how many were held."""
    if not isinstance(entries, list):
        return [], 0
    kept, held = [], 0
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            continue
        if "/" in entry["filename"]:
            continue
        if policy.held_reason(_as_file(entry), now) is not None:
            held += 1
            continue
        kept.append({**entry, "url": root + file_url(project_id, entry["filename"])[1:]})
    return kept, held


def render(
    document: CachedDocument, root: str, policy: Policy, now: dt.datetime
) -> tuple[bytes, int]:
    """The document as we serve it, with file URLs under ``root`` (the site root, relative
    or absolute, ending in "/"), and the number of files held back."""
    data: dict[str, Any] = json.loads(document.body)
    project_id = document.project_id
    held = 0
    releases = data.get("releases")
    if isinstance(releases, dict):
        shown: dict[str, Any] = {}
        for version, entries in releases.items():
            kept, dropped = _files(entries, project_id, root, policy, now)
            held += dropped
            # A release whose every file is held back is not one pip could install here.
            if kept or not dropped:
                shown[version] = kept
        data["releases"] = shown
    urls, dropped_urls = _files(data.get("urls"), project_id, root, policy, now)
    data["urls"] = urls
    if not isinstance(releases, dict):
        held += dropped_urls
    return json.dumps(data, separators=(",", ":")).encode(), held
