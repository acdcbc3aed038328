"""Signing in and out: the login form, its second-factor step, and logging out."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services import audit, clock
from wheelyard.services.accounts import logins, two_factor, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.web import session
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render
from wheelyard.web.views.accounts.forms import (
    CODES_LIMITED_MESSAGE,
    WRONG_CODE_MESSAGE,
    CodeForm,
    text_field,
)
from wheelyard.web.views.accounts.notice import flash
from wheelyard.web.views.accounts.responses import too_many

LOGIN_FAILED_MESSAGE = "The email address or password is not right."
LOGINS_LIMITED_MESSAGE = "Too many failed logins. Wait a while, then try again."


@dataclass
class LoginForm:
    email: str
    password: str
    next: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData) -> LoginForm:
        return cls(
            email=text_field(form, "email").strip(),
            password=text_field(form, "password"),
            next=session.safe_next(text_field(form, "next")),
        )

    def validate(self) -> bool:
        if not self.email or not self.password:
            self.errors.append("Enter your email address and password.")
        elif (
            len(self.email) > users.MAX_EMAIL_LENGTH
            or len(self.password) > users.MAX_PASSWORD_LENGTH
            or "\x00" in self.email
        ):
            # Cannot belong to any account (and PostgreSQL cannot even compare a NUL): said
            # the same way as any failed login.
            self.errors.append(LOGIN_FAILED_MESSAGE)
        return not self.errors


async def login(request: Request) -> Response:
    if request.method == "GET":
        next_path = session.safe_next(request.query_params.get("next"))
        return render(request, "account/login.html", form=None, next=next_path)
    form = LoginForm.from_form(await verified_form(request))
    if not form.validate():
        return render(request, "account/login.html", status_code=400, form=form, next=form.next)
    passwords: Passwords = request.app.state.passwords
    origin = client_origin(request)
    with transaction(request) as db:
        attempt = logins.attempt_login(
            db, passwords, email=form.email, password=form.password, origin=origin
        )
        if attempt.limit is not None:
            form.errors.append(LOGINS_LIMITED_MESSAGE)
            return too_many(request, "account/login.html", attempt.limit, form=form, next=form.next)
        if attempt.second_factor is not None:
            session.start_second_factor(request, attempt.second_factor, form.next)
            return RedirectResponse("/account/login/two-factor", status_code=303)
        user = attempt.user
        if user is not None:
            audit.record(db, audit.Action.LOGIN, origin=origin, user_id=user.id)
            session.log_in(request, user)
    if user is None:
        form.errors.append(LOGIN_FAILED_MESSAGE)
        return render(request, "account/login.html", status_code=400, form=form, next=form.next)
    return RedirectResponse(form.next, status_code=303)


async def login_two_factor(request: Request) -> Response:
    """The second step of a login, for accounts with two-factor login on."""
    if request.method == "GET":
        if session.pending_login(request) is None:
            return RedirectResponse("/account/login", status_code=303)
        return render(request, "account/login_two_factor.html", form=None)
    form = CodeForm.from_form(await verified_form(request))
    pending = session.pending_login(request)
    if pending is None:
        # Too late, or logged out elsewhere meanwhile: the password is asked for again.
        session.log_out(request)
        return RedirectResponse("/account/login", status_code=303)
    origin = client_origin(request)
    with transaction(request) as db:
        user = users.session_holder(db, pending.user_id, pending.generation)
        if user is None or not two_factor.is_enabled(user):
            session.log_out(request)
            return RedirectResponse("/account/login", status_code=303)
        check = two_factor.check_code(
            db,
            user,
            form.code,
            box=request.app.state.secret_box,
            origin=origin,
            purpose="login",
        )
        if check.limit is not None:
            form.errors.append(CODES_LIMITED_MESSAGE)
            return too_many(request, "account/login_two_factor.html", check.limit, form=form)
        if check.method is None:
            form.errors.append(WRONG_CODE_MESSAGE)
            return render(request, "account/login_two_factor.html", status_code=400, form=form)
        user.last_login = clock.now()
        audit.record(db, audit.Action.LOGIN, origin=origin, user_id=user.id, detail=check.method)
        session.log_in(request, user)
        if check.method is two_factor.Method.RECOVERY_CODE:
            left = two_factor.remaining_recovery_codes(db, user)
            flash(request, f"You used a recovery code; {left} are left.")
            return RedirectResponse("/account/two-factor", status_code=303)
    return RedirectResponse(pending.next, status_code=303)


async def logout(request: Request) -> Response:
    await verified_form(request)
    who = session.session_user(request)
    if who is not None:
        with transaction(request) as db:
            user = db.get(User, who.id)
            if user is not None:
                # Logging out ends the account's sessions everywhere, not only this cookie.
                users.end_sessions(user)
            audit.record(db, audit.Action.LOGOUT, origin=client_origin(request), user_id=who.id)
    session.log_out(request)
    return RedirectResponse("/", status_code=303)


routes: list[BaseRoute] = [
    Route("/account/login", login, methods=["GET", "POST"], name="login"),
    Route(
        "/account/login/two-factor",
        login_two_factor,
        methods=["GET", "POST"],
        name="login_two_factor",
    ),
    Route("/account/logout", logout, methods=["POST"], name="logout"),
]
