"""Accounts: register, log in, log out and the account page.

Also the helpers the other signed-in pages share: who is asking, from where, and where to
send them back to after logging in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.data.user import User
from wheelyard.services import audit, maintainers, rate_limit, users
from wheelyard.services.audit import Origin
from wheelyard.services.passwords import Passwords
from wheelyard.web import session_auth
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render
from wheelyard.web.transaction import transaction

# Deliberately loose: the address only has to look deliverable; one "@", a dot after it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_NEXT_LENGTH = 2048
LOGIN_FAILED_MESSAGE = "The email address or password is not right."
LOGINS_LIMITED_MESSAGE = "Too many failed logins. Wait a while, then try again."
REGISTRATIONS_LIMITED_MESSAGE = "Too many accounts were created from here. Try again later."


def origin_of(request: Request) -> Origin:
    client = request.client
    return Origin(
        ip_address=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
    )


def safe_next(target: str | None, default: str = "/account") -> str:
    """``target`` if it is a path on this site; ``default`` for anything that could leave it.

    Browsers read "//host", "/\\host" and paths with tabs or newlines inside as other sites,
    so only a plain "/path" without backslashes or control characters is followed.
    """
    if not target or len(target) > _MAX_NEXT_LENGTH:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/account/login?" + urlencode({"next": here}), status_code=303)


def signed_in_user(request: Request, db: Session) -> User | None:
    """The account of the session, if it still exists and is active."""
    who = session_auth.session_user(request)
    return users.active_user(db, who.id) if who is not None else None


def _too_many(
    request: Request, template: str, limit: rate_limit.Limit, **context: object
) -> Response:
    return render(
        request,
        template,
        status_code=429,
        headers={"Retry-After": str(limit.retry_after_seconds)},
        **context,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@dataclass
class RegisterForm:
    name: str
    email: str
    password: str
    confirm: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData) -> RegisterForm:
        return cls(
            name=_text(form, "name").strip(),
            email=_text(form, "email").strip(),
            password=_text(form, "password"),
            confirm=_text(form, "confirm"),
        )

    def validate(self) -> bool:
        if not self.name:
            self.errors.append("Enter your name.")
        elif len(self.name) > users.MAX_NAME_LENGTH:
            self.errors.append(f"The name is longer than {users.MAX_NAME_LENGTH} characters.")
        if len(self.email) > users.MAX_EMAIL_LENGTH or not _EMAIL.match(self.email):
            self.errors.append("Enter a valid email address.")
        if len(self.password) < users.MIN_PASSWORD_LENGTH:
            self.errors.append(
                f"Choose a password of at least {users.MIN_PASSWORD_LENGTH} characters."
            )
        elif len(self.password) > users.MAX_PASSWORD_LENGTH:
            self.errors.append(
                f"The password is longer than {users.MAX_PASSWORD_LENGTH} characters."
            )
        elif self.password != self.confirm:
            self.errors.append("The two passwords differ.")
        return not self.errors


@dataclass
class LoginForm:
    email: str
    password: str
    next: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData) -> LoginForm:
        return cls(
            email=_text(form, "email").strip(),
            password=_text(form, "password"),
            next=safe_next(_text(form, "next")),
        )

    def validate(self) -> bool:
        if not self.email or not self.password:
            self.errors.append("Enter your email address and password.")
        elif len(self.email) > users.MAX_EMAIL_LENGTH or len(self.password) > (
            users.MAX_PASSWORD_LENGTH
        ):
            # Too long to belong to any account; said the same way as any failed login.
            self.errors.append(LOGIN_FAILED_MESSAGE)
        return not self.errors


async def register(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "account/register.html", form=None)
    form = RegisterForm.from_form(await verified_form(request))
    if not form.validate():
        return render(request, "account/register.html", status_code=400, form=form)
    passwords: Passwords = request.app.state.passwords
    origin = origin_of(request)
    with transaction(request) as db:
        limit = rate_limit.registration_limit_reached(db, ip_address=origin.ip_address)
        if limit is not None:
            form.errors.append(REGISTRATIONS_LIMITED_MESSAGE)
            return _too_many(request, "account/register.html", limit, form=form)
        try:
            user = users.create_user(
                db, passwords, name=form.name, email=form.email, password=form.password
            )
        except users.AccountError as error:
            form.errors.append(str(error))
            return render(request, "account/register.html", status_code=400, form=form)
        audit.record(db, audit.Action.REGISTER, origin=origin, user_id=user.id)
        user.last_login = users.utcnow()
        session_auth.log_in(request, user)
    return RedirectResponse("/account", status_code=303)


async def login(request: Request) -> Response:
    if request.method == "GET":
        next_path = safe_next(request.query_params.get("next"))
        return render(request, "account/login.html", form=None, next=next_path)
    form = LoginForm.from_form(await verified_form(request))
    if not form.validate():
        return render(request, "account/login.html", status_code=400, form=form, next=form.next)
    passwords: Passwords = request.app.state.passwords
    origin = origin_of(request)
    email = users.normalize_email(form.email)
    with transaction(request) as db:
        known = users.find_user_by_email(db, email)
        limit = rate_limit.login_limit_reached(
            db, email=email, ip_address=origin.ip_address, user_id=known.id if known else None
        )
        if limit is not None:
            # Refused before the password is checked: a guess made now proves nothing.
            form.errors.append(LOGINS_LIMITED_MESSAGE)
            return _too_many(request, "account/login.html", limit, form=form, next=form.next)
        user = users.authenticate(db, passwords, email, form.password)
        if user is None:
            audit.record(
                db,
                audit.Action.LOGIN_FAILED,
                origin=origin,
                user_id=known.id if known else None,
                # The address typed in, known or not: the per-address limit counts by it.
                detail=email,
            )
        else:
            audit.record(db, audit.Action.LOGIN, origin=origin, user_id=user.id)
            session_auth.log_in(request, user)
    if user is None:
        form.errors.append(LOGIN_FAILED_MESSAGE)
        return render(request, "account/login.html", status_code=400, form=form, next=form.next)
    return RedirectResponse(form.next, status_code=303)


async def logout(request: Request) -> Response:
    await verified_form(request)
    who = session_auth.session_user(request)
    if who is not None:
        with transaction(request) as db:
            audit.record(db, audit.Action.LOGOUT, origin=origin_of(request), user_id=who.id)
    session_auth.log_out(request)
    return RedirectResponse("/", status_code=303)


async def account(request: Request) -> Response:
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        projects = maintainers.projects_of(db, user.id)
        return render(request, "account/index.html", user=user, projects=projects)


routes: list[BaseRoute] = [
    Route("/account/register", register, methods=["GET", "POST"], name="register"),
    Route("/account/login", login, methods=["GET", "POST"], name="login"),
    Route("/account/logout", logout, methods=["POST"], name="logout"),
    Route("/account", account, name="account"),
]
