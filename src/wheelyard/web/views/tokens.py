"""API token pages: list, create (the secret is shown once), revoke."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.data.api_token import TokenScope
from wheelyard.data.maintainer import Role
from wheelyard.data.package import Package
from wheelyard.http.origin import client_origin
from wheelyard.http.site_root import site_root
from wheelyard.http.transaction import transaction
from wheelyard.services import audit, clock
from wheelyard.services.access import roles
from wheelyard.services.accounts import tokens
from wheelyard.web.csrf import verified_form
from wheelyard.web.session import login_redirect, signed_in_user
from wheelyard.web.templating import render

MAX_EXPIRY_DAYS = 3650
# Token pages stay out of browser and proxy caches: one of them holds a secret.
_NOT_STORED = {"Cache-Control": "no-store"}
ALL_PROJECTS = ""


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@dataclass
class TokenForm:
    description: str
    scope: str  # the project the token reaches ("" for all of the user's)
    permission: str  # a TokenScope value: read, or upload
    expires_in_days: str
    projects: list[tuple[Package, Role]]  # what the user may scope a token to
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData, projects: list[tuple[Package, Role]]) -> TokenForm:
        return cls(
            description=_text(form, "description").strip(),
            scope=_text(form, "scope"),
            # A form from before tokens had a permission made upload tokens.
            permission=_text(form, "permission") or TokenScope.UPLOAD.value,
            expires_in_days=_text(form, "expires_in_days").strip(),
            projects=projects,
        )

    def validate(self) -> bool:
        if not self.description:
            self.errors.append("Give the token a description.")
        elif len(self.description) > tokens.MAX_DESCRIPTION_LENGTH:
            self.errors.append(
                f"The description is longer than {tokens.MAX_DESCRIPTION_LENGTH} characters."
            )
        if self.scope != ALL_PROJECTS and self.scope not in {
            package.id for package, _ in self.projects
        }:
            self.errors.append("Choose all your projects or one that you maintain.")
        if self.permission not in {scope.value for scope in TokenScope}:
            self.errors.append("Choose read (install) only, or upload and install.")
        if self.expires_in_days and not (
            self.expires_in_days.isascii()
            and self.expires_in_days.isdigit()
            and 1 <= int(self.expires_in_days) <= MAX_EXPIRY_DAYS
        ):
            self.errors.append(
                f"Expiry must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}."
            )
        return not self.errors

    @property
    def package_id(self) -> str | None:
        return self.scope or None

    @property
    def expires(self) -> dt.datetime | None:
        if not self.expires_in_days:
            return None
        return clock.now() + dt.timedelta(days=int(self.expires_in_days))


async def token_list(request: Request) -> Response:
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        # Directly or through a team: a team's maintainer scopes a token to the team's project.
        projects = roles.projects_with_roles(db, user.id)
        form: TokenForm | None = None
        if request.method == "POST":
            form = TokenForm.from_form(await verified_form(request), projects)
            if form.validate():
                token, secret = tokens.create_token(
                    db,
                    user,
                    description=form.description,
                    package_id=form.package_id,
                    expires=form.expires,
                    scope=TokenScope(form.permission),
                    role_checked=True,  # the form only accepts a project from ``projects``
                )
                audit.record(
                    db,
                    audit.Action.TOKEN_CREATED,
                    origin=client_origin(request),
                    user_id=user.id,
                    package_id=token.package_id,
                    detail=tokens.describe(token),
                )
                # The answer to this POST is the only place the secret ever appears: no
                # redirect (it would have to carry the secret in the cookie or the URL).
                return render(
                    request,
                    "tokens/created.html",
                    headers=_NOT_STORED,
                    token=token,
                    secret=secret,
                    upload_url=f"{site_root(request).url}/legacy/",
                )
        return render(
            request,
            "tokens/index.html",
            status_code=400 if form is not None else 200,
            headers=_NOT_STORED,
            tokens=tokens.list_for_user(db, user.id),
            projects=projects,
            form=form,
            now=clock.now(),
            upload_url=f"{site_root(request).url}/legacy/",
        )


async def revoke(request: Request) -> Response:
    form = await verified_form(request)
    token_id = _text(form, "token_id")
    if not (token_id.isascii() and token_id.isdigit() and len(token_id) < 19):
        raise HTTPException(400, "That is not a token of yours.")
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        revoked = tokens.revoke(db, int(token_id), user.id)
        if revoked is None:
            raise HTTPException(404, "That is not a token of yours.")
        audit.record(
            db,
            audit.Action.TOKEN_REVOKED,
            origin=client_origin(request),
            user_id=user.id,
            package_id=revoked.package_id,
            detail=tokens.describe(revoked),
        )
    return RedirectResponse("/account/tokens", status_code=303)


routes: list[BaseRoute] = [
    Route("/account/tokens", token_list, methods=["GET", "POST"], name="tokens"),
    Route("/account/tokens/revoke", revoke, methods=["POST"], name="revoke_token"),
]
