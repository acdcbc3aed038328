"""Teams on the web: the list at ``/teams/``, a team's page, and the administrators' forms.

A team's page is shown to its members and to administrators only; to anyone else a team
does not exist (404), so the page can never tell a stranger the name of a private project.
Administrators create teams and choose their members (as by ``wheelyard team``); owners
grant teams roles on their projects' manage pages. Every change is a POST form with a CSRF
token, and the service writes its audit row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.data.team import Team
from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services.access import teams
from wheelyard.web.csrf import verified_form
from wheelyard.web.session import login_redirect, signed_in_user
from wheelyard.web.templating import render

_FLASH = "teams_flash"
# Longer than any email or team name: such input cannot name anything here.
_MAX_FIELD = 320
_NOT_FOUND = "There is no team by that name."


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or len(value) > _MAX_FIELD:
        return ""
    return value.strip()


def _flash(request: Request) -> str | None:
    flash = request.session.pop(_FLASH, None)
    return flash if isinstance(flash, str) else None


def _visible_team(db: Session, name: str, user: User) -> Team:
    team = teams.find(db, name)
    if team is None or not (user.is_admin or teams.is_member(db, team, user.id)):
        raise HTTPException(404, _NOT_FOUND)
    return team


def _list_page(request: Request, db: Session, user: User, *, error: str | None = None) -> Response:
    return render(
        request,
        "teams/list.html",
        status_code=400 if error else 200,
        teams=teams.all_teams(db) if user.is_admin else teams.teams_of(db, user.id),
        user=user,
        flash=None if error else _flash(request),
        error=error,
    )


def _team_page(
    request: Request, db: Session, team: Team, user: User, *, error: str | None = None
) -> Response:
    return render(
        request,
        "teams/detail.html",
        status_code=400 if error else 200,
        team=team,
        members=teams.members_of(db, team),
        projects=teams.projects_of(db, team),
        user=user,
        flash=None if error else _flash(request),
        error=error,
    )


async def team_list(request: Request) -> Response:
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        return _list_page(request, db, user)


async def create_team(request: Request) -> Response:
    form = await verified_form(request)
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        if not user.is_admin:
            raise HTTPException(403, "Only administrators create teams.")
        try:
            team = teams.create(db, _text(form, "name"), actor=user, origin=client_origin(request))
        except teams.TeamError as error:
            db.rollback()
            return _list_page(request, db, user, error=str(error))
        target = f"/team/{team.normalized}/"
    request.session[_FLASH] = f"Team {team.name} is created; add its members here."
    return RedirectResponse(target, status_code=303)


async def team_page(request: Request) -> Response:
    name: str = request.path_params["name"]
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        team = _visible_team(db, name, user)
        if name != team.normalized:
            return RedirectResponse(f"/team/{team.normalized}/", status_code=301)
        return _team_page(request, db, team, user)


# A change to a team's members: (db, team, email, actor, request) -> the message shown.
MemberChange = Callable[[Session, Team, str, User, Request], str]


def _add(db: Session, team: Team, email: str, actor: User, request: Request) -> str:
    member = teams.add_member(db, team, email, actor=actor, origin=client_origin(request))
    return f"{member.name} is a member of team {team.name}."


def _remove(db: Session, team: Team, email: str, actor: User, request: Request) -> str:
    member = teams.remove_member(db, team, email, actor=actor, origin=client_origin(request))
    return f"{member.name} is no longer a member of team {team.name}."


def _member_view(change: MemberChange) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        form = await verified_form(request)
        with transaction(request) as db:
            user = signed_in_user(request, db)
            if user is None:
                return login_redirect(request)
            team = _visible_team(db, request.path_params["name"], user)
            if not user.is_admin:
                raise HTTPException(403, "Only administrators choose a team's members.")
            try:
                message = change(db, team, _text(form, "email"), user, request)
            except teams.TeamError as error:
                db.rollback()
                return _team_page(request, db, team, user, error=str(error))
            target = f"/team/{team.normalized}/"
        request.session[_FLASH] = message
        return RedirectResponse(target, status_code=303)

    return view


routes: list[BaseRoute] = [
    Route("/teams/", team_list, name="teams"),
    Route("/teams/create", create_team, methods=["POST"]),
    Route("/team/{name}/", team_page, name="team"),
    Route("/team/{name}/members/add", _member_view(_add), methods=["POST"]),
    Route("/team/{name}/members/remove", _member_view(_remove), methods=["POST"]),
]
