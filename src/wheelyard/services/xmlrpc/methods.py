"""PyPI's XML-RPC methods, with PyPI's answers, from the journal and the search index.

Each method sees only the projects its reader may see (services/access/visibility): private
projects are left out of every list, the changelog included, and a private project the reader
may not see answers as one that does not exist. Lists are bounded: the changelog as PyPI
bounds it (``MAX_CHANGELOG`` entries a call: a mirror asks again from the last serial it
got), search at ``MAX_SEARCH_RESULTS``. ``list_packages`` and ``list_packages_with_serial``
name every project, as on PyPI, since a mirror's first run needs them all: they grow with
the index (about 40 bytes a project).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.journal import JournalEntry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services import journal
from wheelyard.services.access import roles, visibility
from wheelyard.services.access.visibility import Reader
from wheelyard.services.discovery import search as search_service
from wheelyard.services.index import project_json
from wheelyard.services.projects import packages
from wheelyard.services.xmlrpc.codec import INVALID_PARAMS, METHOD_NOT_FOUND, Fault
from wheelyard.storage.base import FileStorage

# As PyPI: a mirror that gets this many asks again from the last serial it got.
MAX_CHANGELOG = 50_000
# As PyPI's search answered, at most.
MAX_SEARCH_RESULTS = 100
# The spec fields search understands, all matched against the project's text.
SEARCH_FIELDS = frozenset({"name", "summary", "keywords", "description"})
# Roles PyPI lists (Readers only install, and PyPI has none).
LISTED_ROLES = (Role.OWNER, Role.MAINTAINER)
# Longer than any project name or version: refused before any query.
MAX_NAME_LENGTH = 200
MAX_VERSION_LENGTH = 100
# Serials and times are BIGINT-sized: a larger one would fail in the database, not match.
MAX_INTEGER = 2**63 - 1


@dataclass(frozen=True)
class Context:
    """What a call may read: the database, the reader (None: anonymous) and, for links,
    the file storage and the site root."""

    db: Session
    reader: Reader | None
    storage: FileStorage
    site_root: str

    def hidden(self) -> frozenset[str]:
        return visibility.hidden_from(self.db, self.reader)

    def visible_package(self, name: str) -> Package | None:
        package = packages.find_package(self.db, name)
        if package is None or not visibility.may_read(self.db, self.reader, package.id):
            return None
        return package


# --- arguments -------------------------------------------------------------------------------


def _text(value: object, what: str, longest: int) -> str:
    if not isinstance(value, str):
        raise Fault(INVALID_PARAMS, f"{what} must be a string, not {type(value).__name__}")
    if len(value) > longest or "\x00" in value:
        raise Fault(INVALID_PARAMS, f"{what} is not a valid {what}")
    return value


def _integer(value: object, what: str) -> int:
    # bool is an int to Python, but <boolean> is no serial.
    if isinstance(value, bool) or not isinstance(value, int):
        raise Fault(INVALID_PARAMS, f"{what} must be an integer, not {type(value).__name__}")
    if value < 0:
        raise Fault(INVALID_PARAMS, f"{what} must not be negative")
    return min(value, MAX_INTEGER)


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise Fault(INVALID_PARAMS, f"{what} must be a boolean, not {type(value).__name__}")


def _arity(params: Sequence[object], least: int, most: int, method: str) -> None:
    if not least <= len(params) <= most:
        wanted = str(least) if least == most else f"{least} to {most}"
        raise Fault(INVALID_PARAMS, f"{method} takes {wanted} parameters, got {len(params)}")


# --- the methods ------------------------------------------------------------------------------


def _visible_packages(context: Context) -> sa.Select[str, int]:
    query = sa.select(Package.name, Package.last_serial).order_by(Package.id)
    hidden = context.hidden()
    if hidden:
        query = query.where(Package.id.not_in(sorted(hidden)))
    return query


def list_packages(context: Context) -> list[str]:
    return [name for name, _serial in context.db.execute(_visible_packages(context))]


def list_packages_with_serial(context: Context) -> dict[str, int]:
    return {row.name: row.last_serial for row in context.db.execute(_visible_packages(context))}


def changelog_last_serial(context: Context) -> int:
    return journal.last_serial(context.db)


def _timestamp(moment: dt.datetime) -> int:
    # Stored as naive UTC (the database's clock).
    return calendar.timegm(moment.utctimetuple())


def _action(entry: JournalEntry) -> str:
    # PyPI names the file in the action ("add py3 file flask-3.0-py3-none-any.whl").
    if entry.filename and entry.action in (journal.Action.ADD_FILE, journal.Action.REMOVE_FILE):
        verb = "add" if entry.action == journal.Action.ADD_FILE else "remove"
        return f"{verb} file {entry.filename}"
    return entry.action


def _changelog(
    context: Context, condition: sa.ColumnElement[bool]
) -> list[tuple[str, str | None, int, str, int]]:
    """(name, version, timestamp, action, serial) of the entries that meet ``condition``,
    oldest first, of projects the reader may see (every journal row has its project: projects
    are never deleted, only their releases and files)."""
    query = (
        sa.select(JournalEntry, Package.name)
        .join(Package, Package.id == JournalEntry.package_id)
        .where(condition)
        .order_by(JournalEntry.id)
        .limit(MAX_CHANGELOG)
    )
    hidden = context.hidden()
    if hidden:
        query = query.where(JournalEntry.package_id.not_in(sorted(hidden)))
    return [
        (name, entry.version, _timestamp(entry.created_date), _action(entry), entry.id)
        for entry, name in context.db.execute(query)
    ]


def changelog_since_serial(context: Context, since: object) -> list[tuple[Any, ...]]:
    serial = _integer(since, "since_serial")
    return list(_changelog(context, JournalEntry.id > serial))


def changelog(context: Context, since: object, with_ids: object = False) -> list[tuple[Any, ...]]:
    seconds = _integer(since, "since")
    try:
        moment = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError) as error:
        raise Fault(INVALID_PARAMS, "since is not a time") from error
    entries = _changelog(context, JournalEntry.created_date > moment)
    if _flag(with_ids, "with_ids"):
        return list(entries)
    return [entry[:4] for entry in entries]


def package_releases(context: Context, name: object, show_hidden: object = False) -> list[str]:
    """Every version, newest first, with ``show_hidden``; else only the latest (PyPI has no
    hidden releases and answers so)."""
    package = context.visible_package(_text(name, "package_name", MAX_NAME_LENGTH))
    if package is None:
        return []
    if _flag(show_hidden, "show_hidden"):
        return [release.version for release in package.releases]
    latest = packages.latest_release(package)
    return [latest.version] if latest is not None else []


def _release_document(context: Context, name: object, version: object) -> dict[str, Any] | None:
    package = context.visible_package(_text(name, "package_name", MAX_NAME_LENGTH))
    wanted = _text(version, "version", MAX_VERSION_LENGTH)
    if package is None:
        return None
    document = project_json.release_document(
        context.db, context.storage, package.id, wanted, context.site_root
    )
    if not isinstance(document, project_json.JsonDocument):
        return None  # unknown, or another spelling of a version (PyPI matches exactly)
    found: dict[str, Any] = json.loads(document.body)
    return found


def release_urls(context: Context, name: object, version: object) -> list[dict[str, Any]]:
    document = _release_document(context, name, version)
    if document is None:
        return []
    return [
        {
            "filename": file["filename"],
            "packagetype": file["packagetype"],
            "python_version": file["python_version"],
            "size": file["size"],
            "md5_digest": file["md5_digest"],
            "sha256_digest": file["digests"]["sha256"],
            "digests": file["digests"],
            "has_sig": False,
            "upload_time": file["upload_time_iso_8601"],
            "comment_text": file["comment_text"],
            "downloads": -1,
            "url": file["url"],
            "requires_python": file["requires_python"],
            "yanked": file["yanked"],
            "yanked_reason": file["yanked_reason"],
        }
        for file in document["urls"]
    ]


def release_data(context: Context, name: object, version: object) -> dict[str, Any]:
    document = _release_document(context, name, version)
    if document is None:
        return {}
    info = document["info"]
    project_urls = info.get("project_urls") or {}
    return {
        "name": info["name"],
        "version": info["version"],
        "stable_version": None,
        "bugtrack_url": None,
        "package_url": info["package_url"],
        "release_url": info["release_url"],
        "docs_url": info["docs_url"],
        "home_page": info["home_page"],
        "download_url": info["download_url"],
        "project_url": info["project_url"],
        "author": info["author"],
        "author_email": info["author_email"],
        "maintainer": info["maintainer"],
        "maintainer_email": info["maintainer_email"],
        "summary": info["summary"],
        "description": info["description"],
        "description_content_type": info["description_content_type"],
        "license": info["license"],
        "keywords": info["keywords"],
        "platform": info["platform"],
        "classifiers": info["classifiers"],
        "requires_dist": info["requires_dist"] or [],
        "requires_python": info["requires_python"],
        "project_urls": [f"{label}, {url}" for label, url in project_urls.items()],
        "yanked": info["yanked"],
        "yanked_reason": info["yanked_reason"],
        "_pypi_hidden": False,
        "downloads": dict(project_json.NO_DOWNLOAD_COUNTS),
    }


def package_roles(context: Context, name: object) -> list[list[str]]:
    """[[role, user name]] of the project's owners and maintainers, owners first."""
    package = context.visible_package(_text(name, "package_name", MAX_NAME_LENGTH))
    if package is None:
        return []
    query = (
        sa.select(Maintainer.role, User.name)
        .join(User, User.id == Maintainer.user_id)
        .where(Maintainer.package_id == package.id, Maintainer.role.in_(LISTED_ROLES))
    )
    found = [(Role(role), user) for role, user in context.db.execute(query)]
    found.sort(key=lambda row: (-row[0].rank, row[1].lower()))
    return [[role.value, user] for role, user in found]


def user_packages(context: Context, user: object) -> list[list[str]]:
    """[[role, project name]] for the accounts of that name (names are not unique here, as
    they are on PyPI: every account so named answers), of projects the reader may see."""
    wanted = _text(user, "user", MAX_NAME_LENGTH)
    account_ids = context.db.scalars(sa.select(User.id).where(User.name == wanted)).all()
    hidden = context.hidden()
    rows: list[list[str]] = []
    for account_id in account_ids:
        for package, role in roles.projects_with_roles(context.db, account_id):
            if role in LISTED_ROLES and package.id not in hidden:
                rows.append([role.value, package.name])
    return rows


def search(context: Context, spec: object, operator: object = "and") -> list[dict[str, Any]]:
    """Projects matching ``spec`` ({field: text or [texts]}), ranked as the search page ranks
    them. ``and``: every word of every value must match; ``or``: each value is searched on
    its own, and the results follow one another in the order of the values, once each.
    pip asks ``{"name": q, "summary": q}`` with ``or``: exactly the search page's ``q``."""
    terms = _search_terms(spec)
    if operator not in ("and", "or"):
        raise Fault(INVALID_PARAMS, "operator must be 'and' or 'or'")
    queries = [" ".join(terms)] if operator == "and" else terms
    hidden = context.hidden()
    found: dict[str, Package] = {}
    for text in queries:
        if len(found) >= MAX_SEARCH_RESULTS:
            break
        if not text.strip():
            continue
        results = search_service.search(
            context.db, text, 1, MAX_SEARCH_RESULTS, facets=False, hidden=hidden
        )
        for package in results.page.items:
            found.setdefault(package.id, package)
    chosen = list(found.values())[:MAX_SEARCH_RESULTS]
    versions = packages.latest_versions(context.db, [package.id for package in chosen])
    return [
        {
            "name": package.name,
            "summary": package.summary or "",
            "version": versions.get(package.id, ""),
            "_pypi_ordering": position,
        }
        for position, package in enumerate(chosen)
    ]


def _search_terms(spec: object) -> list[str]:
    if not isinstance(spec, Mapping) or not spec:
        raise Fault(INVALID_PARAMS, "spec must be a struct of field names and search terms")
    terms: list[str] = []
    for field, value in spec.items():
        if field not in SEARCH_FIELDS:
            known = ", ".join(sorted(SEARCH_FIELDS))
            raise Fault(INVALID_PARAMS, f"search does not know the field {field!r} ({known})")
        values = value if isinstance(value, list) else [value]
        for item in values:
            text = _text(item, "search term", search_service.MAX_QUERY_LENGTH)
            if text not in terms:
                terms.append(text)
    if not terms:
        raise Fault(INVALID_PARAMS, "spec has no search terms")
    return terms


Method = Callable[..., Any]

METHODS: dict[str, tuple[Method, int, int]] = {
    # name: (function, least and most parameters after the context)
    "list_packages": (list_packages, 0, 0),
    "list_packages_with_serial": (list_packages_with_serial, 0, 0),
    "changelog_last_serial": (changelog_last_serial, 0, 0),
    "changelog_since_serial": (changelog_since_serial, 1, 1),
    "changelog": (changelog, 1, 2),
    "package_releases": (package_releases, 1, 2),
    "release_urls": (release_urls, 2, 2),
    "release_data": (release_data, 2, 2),
    "package_roles": (package_roles, 1, 1),
    "user_packages": (user_packages, 1, 1),
    "search": (search, 1, 2),
}


def call(context: Context, method: str, params: Sequence[object]) -> object:
    """The answer to one call; Fault for an unknown method or wrong parameters."""
    found = METHODS.get(method)
    if found is None:
        shown = method if len(method) <= 100 else method[:100] + "..."
        raise Fault(METHOD_NOT_FOUND, f"no method {shown!r}")
    function, least, most = found
    _arity(params, least, most, method)
    return function(context, *params)
