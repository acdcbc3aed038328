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

from wheelyard.data.language import Language
from wheelyard.data.maintainer import Maintainer
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.http.project_reader import may_see
from wheelyard.http.transaction import transaction
from wheelyard.services import urls
from wheelyard.services.analytics import stats
from wheelyard.services.naming import is_valid_project_name
from wheelyard.services.projects import packages, release_files
from wheelyard.web.templating import render

# Long enough for any real version; longer text in a message only makes the page unreadable.
_SHOWN_TEXT_LIMIT = 80

PACKAGE_TYPES = {"sdist": "Source", "bdist_wheel": "Wheel", "bdist_egg": "Egg"}


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
    uploaded: dt.datetime
    # Uploaded by a trusted publisher: "OWNER/REPO by release.yml".
    published_from: str | None = None


@dataclass(frozen=True)
class ProjectPage:
    """Everything the project template shows, read while the transaction is open."""

    package: Package
    release: Release | None
    latest: Release | None
    install_command: str | None
    readme_html: Markup
    releases: list[ReleaseRow]
    files: list[FileRow]
    maintainers: list[Maintainer]
    languages: list[Language]
    home_page: str | None
    docs_url: str | None
    url: str
    latest_url: str | None
    downloads: stats.RecentDownloads

    @property
    def is_latest(self) -> bool:
        return self.release is not None and self.latest is not None and self.release is self.latest


def build_page(db: Session, package: Package, release: Release | None, url: str) -> ProjectPage:
    latest = packages.latest_release(package)
    files = [
        FileRow(
            filename=file.filename,
            url=release_files.file_url(file),
            kind=PACKAGE_TYPES.get(file.packagetype, file.packagetype),
            python_version=file.python_version,
            size=file.size,
            sha256=file.sha256_digest,
            uploaded=file.created_date,
            published_from=file.published_from,
        )
        # One query: only the shown release's files are loaded.
        for file in (release.files if release is not None else [])
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
        # Sanitized by readme-renderer when rendered; Markup tells Jinja not to escape it.
        readme_html=Markup(packages.description_html(package)),  # noqa: S704
        releases=releases,
        files=files,
        maintainers=packages.maintainers_of(package),
        languages=list(package.languages),
        home_page=packages.external_link(package.home_page),
        docs_url=packages.external_link(package.docs_url),
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
        page = build_page(db, package, release, canonical)
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
