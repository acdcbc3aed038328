"""Project pages: ``/project/<name>/`` and ``/project/<name>/<version>/``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.language import Language
from wheelyard.data.maintainer import Maintainer
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.http.project_reader import may_see
from wheelyard.http.transaction import transaction
from wheelyard.services import urls
from wheelyard.services.access import roles
from wheelyard.services.analytics import stats
from wheelyard.services.discovery.pagination import InvalidPage, page_count, parse_page
from wheelyard.services.index import release_details
from wheelyard.services.index.release_details import ReleaseDetails
from wheelyard.services.naming import is_valid_project_name
from wheelyard.services.projects import (
    packages,
    project_urls,
    readme_images,
    release_files,
    wheel_tags,
)
from wheelyard.storage.base import FileStorage
from wheelyard.web.session import signed_in_user
from wheelyard.web.templating import render

# Long enough for any real version; longer text in a message only makes the page unreadable.
_SHOWN_TEXT_LIMIT = 80

PACKAGE_TYPES = {"sdist": "Source", "bdist_wheel": "Wheel", "bdist_egg": "Egg"}
# Releases on one page of the release history: awscli's 544 would make the page 30,000 px.
HISTORY_PAGE_SIZE = 40


@dataclass(frozen=True)
class ReleaseRow:
    version: str
    url: str
    created: dt.datetime
    is_prerelease: bool
    yanked: bool
    yanked_reason: str | None
    is_shown: bool
    is_latest: bool


@dataclass(frozen=True)
class FileRow:
    filename: str
    url: str
    kind: str
    python_version: str | None
    size: int
    sha256: str
    md5: str | None
    blake2_256: str | None
    # The wheel's tags in words ("CPython 3.11, manylinux: glibc 2.17+ x86-64"); None for
    # an sdist.
    tags: str | None
    is_sdist: bool
    uploaded: dt.datetime
    # Uploaded by a trusted publisher: "OWNER/REPO by release.yml".
    published_from: str | None = None


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    # Which icon it gets: homepage, source, documentation, changelog, issues, funding...
    kind: str


@dataclass(frozen=True)
class HistoryPage:
    """The page of the release history shown, and where the others are."""

    rows: list[ReleaseRow]
    number: int
    count: int
    total: int

    def url(self, number: int) -> str:
        return f"?history={number}#history"

    @property
    def first(self) -> int:
        """The place of the page's first release in the whole history, from 1."""
        return (self.number - 1) * HISTORY_PAGE_SIZE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


# "Topic", [("Topic :: Internet :: WWW/HTTP", "Internet :: WWW/HTTP"), ...]
ClassifierGroup = tuple[str, list[tuple[str, str]]]


def classifier_groups(classifiers: list[str]) -> list[ClassifierGroup]:
    """Classifiers under their first part, as PyPI lists them; each kept whole for its link."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for classifier in classifiers:
        group, _, rest = classifier.partition(" :: ")
        groups.setdefault(group, []).append((classifier, rest or group))
    return list(groups.items())


@dataclass(frozen=True)
class ProjectPage:
    """Everything the project template shows, read while the transaction is open."""

    package: Package
    release: Release | None
    latest: Release | None
    install_command: str | None
    readme_html: Markup
    releases: list[ReleaseRow]
    history: HistoryPage
    files: list[FileRow]
    maintainers: list[Maintainer]
    languages: list[Language]
    details: ReleaseDetails
    # The release's links, safe to follow (http and https only).
    links: list[Link]
    # The signed-in reader may manage the project (its page links there).
    can_manage: bool
    classifier_groups: list[ClassifierGroup]
    url: str
    latest_url: str | None
    downloads: stats.RecentDownloads

    @property
    def is_latest(self) -> bool:
        return self.release is not None and self.latest is not None and self.release is self.latest

    @property
    def source_files(self) -> list[FileRow]:
        return [file for file in self.files if file.is_sdist]

    @property
    def built_files(self) -> list[FileRow]:
        return [file for file in self.files if not file.is_sdist]


def _links(details: ReleaseDetails) -> list[Link]:
    """Home-page, Download-URL and every Project-URL, as PyPI's sidebar lists them."""
    found = {
        "Homepage": details.home_page,
        "Download": details.download_url,
        **details.project_urls,
        "Documentation": details.project_urls.get("Documentation") or details.docs_url,
    }
    links = {label: packages.external_link(url) for label, url in found.items()}
    return [
        Link(label=label, url=link, kind=project_urls.link_kind(label))
        for label, link in links.items()
        if link
    ]


class HistoryPageError(Exception):
    """The ``history`` parameter names no page of the release history."""


def _history_page(rows: list[ReleaseRow], raw: str | None) -> HistoryPage:
    count = page_count(len(rows), HISTORY_PAGE_SIZE)
    if raw is None:
        # The page that holds the release shown, so that its row is there, marked.
        shown = next((index for index, row in enumerate(rows) if row.is_shown), 0)
        number = shown // HISTORY_PAGE_SIZE + 1
    else:
        try:
            number = parse_page(raw)
        except InvalidPage as error:
            raise HistoryPageError(f"Release history: {error}") from error
        if number > count:
            raise HistoryPageError(
                f"The release history has {count} page{'s' if count != 1 else ''}; "
                f"there is no page {number}."
            )
    start = (number - 1) * HISTORY_PAGE_SIZE
    return HistoryPage(
        rows=rows[start : start + HISTORY_PAGE_SIZE], number=number, count=count, total=len(rows)
    )


def build_page(
    db: Session,
    storage: FileStorage,
    package: Package,
    release: Release | None,
    url: str,
    *,
    history_page: str | None = None,
    can_manage: bool = False,
    images: readme_images.Mode = "direct",
    signer: readme_images.ImageSigner | None = None,
) -> ProjectPage:
    latest = packages.latest_release(package)
    # The shown release's own metadata; the project's page shows its latest release.
    details = release_details.details_of(db, storage, package, release)
    files = [
        FileRow(
            filename=file.filename,
            url=release_files.file_url(file),
            kind=PACKAGE_TYPES.get(file.packagetype, file.packagetype),
            python_version=file.python_version,
            size=file.size,
            sha256=file.sha256_digest,
            md5=file.md5_digest,
            blake2_256=file.blake2_256_digest,
            tags=wheel_tags.describe(file.filename) if file.packagetype == "bdist_wheel" else None,
            is_sdist=file.packagetype == "sdist",
            uploaded=file.created_date,
            published_from=file.published_from,
        )
        # One query: only the shown release's files are loaded.
        for file in sorted(
            release.files if release is not None else [], key=lambda file: file.filename
        )
    ]
    releases = [
        ReleaseRow(
            version=row.version,
            url=urls.project_url(package.id, row.version),
            created=row.created_date,
            is_prerelease=row.is_prerelease,
            yanked=row.yanked,
            yanked_reason=row.yanked_reason,
            is_shown=row is release,
            is_latest=row is latest,
        )
        for row in package.releases
    ]
    return ProjectPage(
        package=package,
        release=release,
        latest=latest,
        install_command=packages.install_command(package, release) if release else None,
        # Sanitized by readme-renderer when rendered (only its images' addresses change
        # here); Markup tells Jinja not to escape it.
        readme_html=Markup(  # noqa: S704
            readme_images.rewrite(details.readme_html, images, signer)
            if signer is not None
            else details.readme_html
        ),
        releases=releases,
        history=_history_page(releases, history_page),
        files=files,
        maintainers=packages.maintainers_of(package),
        languages=list(package.languages),
        details=details,
        links=_links(details),
        can_manage=can_manage,
        classifier_groups=classifier_groups(details.classifiers),
        url=url,
        latest_url=urls.project_url(package.id, latest.version) if latest else None,
        downloads=stats.recent(db, package.id),
    )


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN_TEXT_LIMIT else text[:_SHOWN_TEXT_LIMIT] + "…"


def _requested_release(package: Package, version: str) -> Release:
    release = packages.resolve_release(package, version)
    if release is None:
        raise HTTPException(404, f"{package.name} has no release “{_shorten(version)}”.")
    return release


def _show(request: Request, *, slash: bool) -> Response:
    name: str = request.path_params["name"]
    version: str | None = request.path_params.get("version")
    # Checked before any query: "../x", NUL bytes or a 10 kB name cannot name a project.
    if not is_valid_project_name(name):
        raise HTTPException(404, "There is no project by that name.")
    with transaction(request) as db:
        package = packages.load_project(db, name)
        # A private project is not there for someone without a role on it: the same 404.
        if package is None or not may_see(request, db, package):
            raise HTTPException(404, f"There is no project named “{name}”.")
        release: Release | None
        if version is None:
            release, canonical_version = packages.default_release(package), None
        else:
            release = _requested_release(package, version)
            canonical_version = release.version
        canonical = urls.project_url(package.id, canonical_version)
        # One page, one URL: other spellings of the name or the version move there for good.
        if not slash or name != package.id or version != canonical_version:
            return RedirectResponse(canonical, status_code=301)
        user = signed_in_user(request, db)
        settings: Settings = request.app.state.settings
        try:
            page = build_page(
                db,
                request.app.state.storage,
                package,
                release,
                canonical,
                history_page=request.query_params.get("history"),
                can_manage=user is not None and roles.can_manage(db, user, package),
                images=readme_images.parse_mode(settings.readme_images),
                signer=request.app.state.image_signer,
            )
        except HistoryPageError as error:
            raise HTTPException(400, str(error)) from error
    return render(request, "project/detail.html", page=page, urls=urls)


def project(request: Request) -> Response:
    return _show(request, slash=True)


def project_without_slash(request: Request) -> Response:
    return _show(request, slash=False)


routes: list[BaseRoute] = [
    Route("/project/{name}/", project, name="project"),
    # A path convertor, so that every stored version has a URL, even one with a "/" in it.
    Route("/project/{name}/{version:path}/", project, name="release"),
    Route("/project/{name}", project_without_slash),
    Route("/project/{name}/{version:path}", project_without_slash),
]
