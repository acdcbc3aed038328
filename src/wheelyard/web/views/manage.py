"""Managing a project: maintainers, teams, roles, visibility, yanking, deleting files, releases,
and the retention rule of its pre-releases.

Owners of the project and administrators only. Every change is a POST form with a CSRF
token, and leaves an audit row (the services write it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.maintainer import Role
from wheelyard.data.package import Package, Visibility
from wheelyard.data.team import Team
from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.project_reader import may_see
from wheelyard.http.transaction import transaction
from wheelyard.services import audit, clock
from wheelyard.services.access import roles, teams
from wheelyard.services.accounts import two_factor, users
from wheelyard.services.audit import Origin
from wheelyard.services.naming import is_valid_project_name, normalize_name
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.publishers import PublisherError
from wheelyard.services.projects import (
    admin,
    maintainers,
    packages,
    retention,
    status,
    two_factor_policy,
)
from wheelyard.storage.base import FileStorage
from wheelyard.web.csrf import verified_form
from wheelyard.web.session import login_redirect, signed_in_user
from wheelyard.web.templating import render
from wheelyard.web.views.publisher_form import spec_from_form

log = logging.getLogger(__name__)

_FLASH = "manage_flash"
# Longer than any email, version or filename column: such input cannot name anything here.
_MAX_FIELD = 1000
_ACTIVITY_ROWS = 20

# What a change does: (db, package, form, actor, origin) -> (message, blobs to delete).
Change = Callable[[Session, Package, FormData, User, Origin], tuple[str, list[str]]]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or len(value) > _MAX_FIELD:
        return ""
    return value.strip()


def _user_id(form: FormData) -> int:
    text = _text(form, "user_id")
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise admin.ProjectAdminError("Choose a maintainer of this project.")
    return int(text)


def _manage_url(package_id: str) -> str:
    return f"/manage/project/{package_id}/"


def _load(request: Request, db: Session) -> tuple[Package, User] | Response:
    """The project and the signed-in owner managing it; a redirect or an error otherwise."""
    name: str = request.path_params["name"]
    if not is_valid_project_name(name):
        raise HTTPException(404, "There is no project by that name.")
    user = signed_in_user(request, db)
    if user is None:
        if request.method == "GET":
            return login_redirect(request)
        return RedirectResponse(
            "/account/login?next=" + _manage_url(normalize_name(name)), status_code=303
        )
    package = packages.load_project(db, name)
    if package is None or not may_see(request, db, package):
        # A private project is not there for someone without a role on it.
        raise HTTPException(404, f"There is no project named “{name}”.")
    if not roles.can_manage(db, user, package):
        raise HTTPException(403, "Only the owners of this project can manage it.")
    return package, user


async def manage_project(request: Request) -> Response:
    with transaction(request) as db:
        loaded = _load(request, db)
        if isinstance(loaded, Response):
            return loaded
        package, user = loaded
        if request.path_params["name"] != package.id:
            return RedirectResponse(_manage_url(package.id), status_code=301)
        flash = request.session.pop(_FLASH, None)
        return _page(request, db, package, user, flash=flash if isinstance(flash, str) else None)


def _page(
    request: Request,
    db: Session,
    package: Package,
    user: User,
    *,
    flash: str | None = None,
    error: str | None = None,
) -> Response:
    events = audit.recent_for_package(db, package.id, limit=_ACTIVITY_ROWS)
    rule = retention.rule_for(db, package)
    return render(
        request,
        "manage/project.html",
        events=events,
        actors=users.names_by_id(db, (event.user_id for event in events)),
        status_code=400 if error else 200,
        package=package,
        links=maintainers.links_of(db, package),
        team_roles=teams.teams_on(db, package),
        publishers=[
            PublisherRow(row.id, publishers.describe(row), row.issuer)
            for row in publishers.for_project(db, package.id)
        ],
        trusted_publishing=request.app.state.settings.trusted_publishing,
        releases=list(package.releases),
        retention_rule=rule,
        # What ``wheelyard cleanup --apply`` would remove today, so nobody is surprised.
        retention_due=retention.removals_for(package, rule, clock.now()) if rule else [],
        roles=[role.value for role in Role],
        owner_statuses=[choice.value for choice in status.OWNER_STATUSES],
        flash=flash,
        error=error,
        user=user,
    )


def _add_maintainer(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    email = _text(form, "email")
    if not email:
        raise maintainers.MaintainerError("Enter the email address of the new maintainer.")
    role = maintainers.parse_role(_text(form, "role"))
    link = maintainers.add(db, package, email, role, actor=actor, origin=origin)
    return f"{link.user.name} is now {role.value.lower()} of {package.name}.", []


def _change_role(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    role = maintainers.parse_role(_text(form, "role"))
    maintainers.change_role(db, package, _user_id(form), role, actor=actor, origin=origin)
    return "Role changed.", []


def _remove_maintainer(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    maintainers.remove(db, package, _user_id(form), actor=actor, origin=origin)
    return "Maintainer removed.", []


def _team(db: Session, form: FormData) -> Team:
    name = _text(form, "team")
    if not name:
        raise teams.TeamError("Enter the name of the team.")
    team = teams.find(db, name)
    if team is None:
        raise teams.TeamError(f"There is no team named “{name}”.")
    return team


def _grant_team(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    team = _team(db, form)
    role = maintainers.parse_role(_text(form, "role"))
    teams.grant(db, team, package, role, actor=actor, origin=origin)
    return f"Team {team.name} is now {role.value.lower()} of {package.name}.", []


def _revoke_team(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    team = _team(db, form)
    teams.revoke(db, team, package, actor=actor, origin=origin)
    return f"Team {team.name} no longer holds a role on {package.name}.", []


@dataclass(frozen=True)
class PublisherRow:
    id: int
    description: str
    issuer: str


def _add_publisher(
    settings: Settings, db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    spec = spec_from_form(form)
    added = publishers.add(
        db,
        package.name,
        spec,
        issuers=publishers.trusted_issuers(settings.oidc_issuers),
        added_by=actor.id,
        origin=origin,
    )
    return f"Trusted publisher added: {publishers.describe(added)}.", []


def _remove_publisher(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    text = _text(form, "publisher_id")
    removed = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        removed = publishers.remove(db, package.id, int(text), actor_id=actor.id, origin=origin)
    if removed is None:
        raise PublisherError("Choose a trusted publisher of this project.")
    return f"Trusted publisher removed: {publishers.describe(removed)}.", []


def _yank(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    version = _text(form, "version")
    reason = form.get("reason")
    if not isinstance(reason, str):
        reason = ""
    admin.yank(db, package, version, reason, actor=actor, origin=origin)
    return f"{version} is yanked.", []


def _unyank(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    version = _text(form, "version")
    admin.unyank(db, package, version, actor=actor, origin=origin)
    return f"{version} is no longer yanked.", []


def _confirmed(form: FormData, expected: str) -> None:
    # Deletion cannot be undone: the form asks for the name typed again.
    if _text(form, "confirm") != expected:
        raise admin.ProjectAdminError(f"Type “{expected}” to confirm the deletion.")


def _remove_file(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    filename = _text(form, "filename")
    admin.file_of(package, filename)
    _confirmed(form, filename)
    paths = admin.remove_file(db, package, filename, actor=actor, origin=origin)
    return f"{filename} is deleted; its name cannot be used again.", paths


def _remove_release(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    version = _text(form, "version")
    admin.release_of(package, version)
    _confirmed(form, version)
    paths = admin.remove_release(db, package, version, actor=actor, origin=origin)
    return f"Release {version} and its files are deleted.", paths


def _set_retention(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    days = retention.parse_number(_text(form, "days"), "number of days", retention.MAX_DAYS)
    keep = retention.parse_number(
        _text(form, "keep"), "number of pre-releases to keep", retention.MAX_KEEP
    )
    rule = retention.set_rule(db, package, days=days, keep=keep, actor_id=actor.id, origin=origin)
    return (
        f"Retention rule set: pre-releases older than {rule.days} days beyond the newest "
        f"{rule.keep} are removed by the next cleanup.",
        [],
    )


def _clear_retention(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    if not retention.clear_rule(db, package, actor_id=actor.id, origin=origin):
        raise retention.RetentionError("This project has no retention rule of its own.")
    return "Retention rule cleared.", []


def _require_two_factor(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    require = _text(form, "require")
    if require not in {"0", "1"}:
        raise admin.ProjectAdminError("Say whether two-factor login is required.")
    two_factor_policy.set_require_2fa(db, package, require == "1", actor, origin)
    if require == "1":
        return "Uploads to this project now need two-factor login.", []
    return "Uploads to this project no longer need two-factor login.", []


def _set_visibility(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    try:
        wanted = Visibility(_text(form, "visibility"))
    except ValueError:
        raise admin.ProjectAdminError("Choose public or private.") from None
    changed = admin.set_visibility(db, package, wanted, actor=actor, origin=origin)
    if not changed:
        return f"{package.name} was already {wanted.value}.", []
    if wanted == Visibility.PRIVATE:
        return f"{package.name} is private: only its owners and maintainers see it.", []
    return f"{package.name} is public.", []


def _set_status(
    db: Session, package: Package, form: FormData, actor: User, origin: Origin
) -> tuple[str, list[str]]:
    wanted = status.parse(_text(form, "status"))
    if wanted not in status.OWNER_STATUSES and not actor.is_admin:
        raise status.StatusError("Only the site admins quarantine a project.")
    changed = status.set_status(
        db, package, wanted, _text(form, "reason"), actor=actor, origin=origin
    )
    done = "is now" if changed else "was already"
    return f"{package.name} {done} {wanted.value}.", []


def _change_view(change: Change) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        form = await verified_form(request)
        with transaction(request) as db:
            loaded = _load(request, db)
            if isinstance(loaded, Response):
                return loaded
            package, user = loaded
            try:
                message, blobs = change(db, package, form, user, client_origin(request))
            except (
                maintainers.MaintainerError,
                teams.TeamError,
                admin.ProjectAdminError,
                two_factor.TwoFactorError,
                status.StatusError,
                PublisherError,
                retention.RetentionError,
            ) as error:
                # Nothing of a refused change may stay; then the page again, saying why.
                db.rollback()
                return _page(request, db, package, user, error=str(error))
            target = _manage_url(package.id)
        # The rows are gone for good now; only then may their blobs go.
        _delete_blobs(request.app.state.storage, blobs)
        request.session[_FLASH] = message
        return RedirectResponse(target, status_code=303)

    return view


async def _add_publisher_view(request: Request) -> Response:
    # Which issuers may be named is the index's setting, so the change needs it.
    settings: Settings = request.app.state.settings
    return await _change_view(partial(_add_publisher, settings))(request)


def _delete_blobs(storage: FileStorage, paths: list[str]) -> None:
    for path in paths:
        try:
            storage.delete(path)
        except Exception:
            # Any backend's failure (disk or object store): the rows are already gone, and
            # a blob left behind wastes space but serves nothing.
            log.warning("could not delete blob %s", path, exc_info=True)


_PREFIX = "/manage/project/{name}/"

routes: list[BaseRoute] = [
    Route(_PREFIX, manage_project, name="manage_project"),
    Route(_PREFIX + "maintainers/add", _change_view(_add_maintainer), methods=["POST"]),
    Route(_PREFIX + "maintainers/role", _change_view(_change_role), methods=["POST"]),
    Route(_PREFIX + "maintainers/remove", _change_view(_remove_maintainer), methods=["POST"]),
    Route(_PREFIX + "teams/grant", _change_view(_grant_team), methods=["POST"]),
    Route(_PREFIX + "teams/revoke", _change_view(_revoke_team), methods=["POST"]),
    Route(_PREFIX + "release/yank", _change_view(_yank), methods=["POST"]),
    Route(_PREFIX + "release/unyank", _change_view(_unyank), methods=["POST"]),
    Route(_PREFIX + "release/delete", _change_view(_remove_release), methods=["POST"]),
    Route(_PREFIX + "file/delete", _change_view(_remove_file), methods=["POST"]),
    Route(_PREFIX + "retention/set", _change_view(_set_retention), methods=["POST"]),
    Route(_PREFIX + "retention/clear", _change_view(_clear_retention), methods=["POST"]),
    Route(_PREFIX + "require-2fa", _change_view(_require_two_factor), methods=["POST"]),
    Route(_PREFIX + "visibility", _change_view(_set_visibility), methods=["POST"]),
    Route(_PREFIX + "status", _change_view(_set_status), methods=["POST"]),
    Route(_PREFIX + "publishers/add", _add_publisher_view, methods=["POST"]),
    Route(_PREFIX + "publishers/remove", _change_view(_remove_publisher), methods=["POST"]),
]
