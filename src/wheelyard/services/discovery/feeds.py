"""RSS 2.0 feeds, as PyPI serves them: newest releases, newest projects, one project's releases.

The queries walk ``created_date`` indexes with a LIMIT, so a feed costs the same however
large the index grows. Links are absolute (feed readers have no page to resolve them
against), built from the base URL the caller passes in.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import format_datetime, getaddresses
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.services import clock, urls
from wheelyard.services.access.visibility import public_only

# PyPI's feeds hold 40 items; readers poll often, so a short feed is also a cheap one.
FEED_LENGTH = 40

UPDATES_PATH = "/rss/updates.xml"
PACKAGES_PATH = "/rss/packages.xml"

RSS_TYPE = "application/rss+xml"
MEDIA_TYPE = f"{RSS_TYPE}; charset=utf-8"

_ATOM = "http://www.w3.org/2005/Atom"
_DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"

# Characters XML 1.0 cannot carry even escaped; metadata from old uploads may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def project_feed_path(package_id: str) -> str:
    return f"/rss/project/{quote(package_id, safe='')}/releases.xml"


@dataclass(frozen=True)
class Item:
    title: str
    # A site path; also the item's guid, so it must name this item alone for good.
    path: str
    description: str | None
    published: dt.datetime
    author_name: str | None
    author_email: str | None


@dataclass(frozen=True)
class Feed:
    title: str
    path: str
    description: str
    # The feed's own URL, for readers and validators (atom:link rel="self").
    self_path: str
    items: Sequence[Item]


def _release_item(release: Release, package: Package) -> Item:
    return Item(
        title=f"{package.name} {release.version}",
        path=urls.project_url(package.id, release.version),
        description=package.summary,
        published=release.created_date,
        author_name=package.author_name,
        author_email=package.author_email,
    )


def updates(db: Session, site_name: str, limit: int = FEED_LENGTH) -> Feed:
    """The newest releases across the index, newest first."""
    query = (
        sa.select(Release, Package)
        .join(Package, Package.id == Release.package_id)
        .where(public_only())
        .order_by(Release.created_date.desc(), Release.id.desc())
        .limit(limit)
    )
    return Feed(
        title=f"{site_name} recent updates",
        path="/",
        description=f"The newest releases on {site_name}",
        self_path=UPDATES_PATH,
        items=[_release_item(release, package) for release, package in db.execute(query)],
    )


def new_projects(db: Session, site_name: str, limit: int = FEED_LENGTH) -> Feed:
    """The newest projects, each shown by its first release."""
    newest = (
        sa.select(Package)
        .where(public_only())
        .order_by(Package.created_date.desc(), Package.id.desc())
    )
    projects = list(db.scalars(newest.limit(limit)))
    firsts = _first_releases(db, [project.id for project in projects])
    items = []
    for project in projects:
        first = firsts.get(project.id)
        items.append(
            Item(
                title=f"{project.name} {first.version}" if first else project.name,
                # The project page, not the release's: the item announces the project.
                path=urls.project_url(project.id),
                description=project.summary,
                published=first.created if first else project.created_date,
                author_name=project.author_name,
                author_email=project.author_email,
            )
        )
    return Feed(
        title=f"{site_name} newest packages",
        path="/",
        description=f"The newest projects on {site_name}",
        self_path=PACKAGES_PATH,
        items=items,
    )


@dataclass(frozen=True)
class _FirstRelease:
    version: str
    created: dt.datetime


def _first_releases(db: Session, package_ids: Sequence[str]) -> dict[str, _FirstRelease]:
    """Each package's earliest upload; the database picks it, so one row per package comes
    back even for a project with thousands of releases."""
    if not package_ids:
        return {}
    position = (
        sa.func.row_number()
        .over(partition_by=Release.package_id, order_by=(Release.created_date, Release.id))
        .label("position")
    )
    ranked = (
        sa.select(Release.package_id, Release.version, Release.created_date, position)
        .where(Release.package_id.in_(package_ids))
        .subquery()
    )
    query = sa.select(ranked.c.package_id, ranked.c.version, ranked.c.created_date).where(
        ranked.c.position == 1
    )
    return {
        package_id: _FirstRelease(version, created)
        for package_id, version, created in db.execute(query)
    }


def project_releases(
    db: Session, package: Package, site_name: str, limit: int = FEED_LENGTH
) -> Feed:
    """One project's releases, the most recently uploaded first."""
    query = (
        sa.select(Release)
        .where(Release.package_id == package.id)
        .order_by(Release.created_date.desc(), Release.id.desc())
        .limit(limit)
    )
    return Feed(
        title=f"{site_name} recent updates for {package.name}",
        path=urls.project_url(package.id),
        description=f"Recent updates to {package.name} on {site_name}",
        self_path=project_feed_path(package.id),
        items=[_release_item(release, package) for release in db.scalars(query)],
    )


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _rfc822(moment: dt.datetime) -> str:
    # Stored times are naive UTC; format_datetime needs to be told so.
    return format_datetime(moment.replace(tzinfo=dt.UTC), usegmt=True)


def _author(name: str | None, emails: str | None) -> tuple[str, str] | None:
    """(tag, text): RSS's <author> must be an address, so a bare name goes in dc:creator."""
    address = next((addr for _, addr in getaddresses([emails or ""]) if "@" in addr), None)
    if address is not None:
        return "author", f"{address} ({name})" if name else address
    if name:
        return "dc:creator", name
    return None


def _add(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = _clean(text)
    return element


def render(feed: Feed, base_url: str, now: dt.datetime | None = None) -> bytes:
    """The feed as an RSS 2.0 document.

    ``lastBuildDate`` is the newest item's date, so an unchanged feed is byte-for-byte the
    same; only an empty feed is dated ``now`` (naive UTC; default: the clock).
    """
    root = base_url.rstrip("/")
    # Prefixed tags with their declarations written by hand: ET.register_namespace would
    # change how every other ElementTree user in the process serializes these namespaces.
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": _ATOM, "xmlns:dc": _DUBLIN_CORE})
    channel = ET.SubElement(rss, "channel")
    _add(channel, "title", feed.title)
    _add(channel, "link", root + feed.path)
    _add(channel, "description", feed.description)
    ET.SubElement(
        channel,
        "atom:link",
        {"href": root + feed.self_path, "rel": "self", "type": RSS_TYPE},
    )
    _add(channel, "language", "en")
    newest = max((item.published for item in feed.items), default=None)
    built = newest or now or clock.now()
    _add(channel, "lastBuildDate", _rfc822(built))
    for entry in feed.items:
        item = ET.SubElement(channel, "item")
        link = root + entry.path
        _add(item, "title", entry.title)
        _add(item, "link", link)
        _add(item, "guid", link, isPermaLink="true")
        if entry.description:
            _add(item, "description", entry.description)
        author = _author(entry.author_name, entry.author_email)
        if author is not None:
            _add(item, *author)
        _add(item, "pubDate", _rfc822(entry.published))
    # Indented: people open feeds in a browser to see why their reader shows what it shows.
    ET.indent(rss)
    document: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
