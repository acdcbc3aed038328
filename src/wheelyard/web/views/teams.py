"""A team's page: its members and the projects it holds a role on.

Shown to the team's members and to administrators only; to anyone else a team does not
exist (404), so the page can never tell a stranger the name of a private project.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.http.transaction import transaction
from wheelyard.services.access import teams
from wheelyard.web.session import login_redirect, signed_in_user
from wheelyard.web.templating import render


async def team_page(request: Request) -> Response:
    name: str = request.path_params["name"]
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        team = teams.find(db, name)
        if team is None or not (user.is_admin or teams.is_member(db, team, user.id)):
            raise HTTPException(404, "There is no team by that name.")
        if name != team.normalized:
            return RedirectResponse(f"/team/{team.normalized}/", status_code=301)
        return render(
            request,
            "teams/detail.html",
            team=team,
            members=teams.members_of(db, team),
            projects=teams.projects_of(db, team),
            user=user,
        )


routes: list[BaseRoute] = [Route("/team/{name}/", team_page, name="team")]
