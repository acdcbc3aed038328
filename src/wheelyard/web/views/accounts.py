"""Accounts: register, log in (with a second factor when on), log out, the account page
(with the account's recent security events), password change and reset, two-factor set-up.

Also the helpers the other signed-in pages share: who is asking, from where, and where to
send them back to after logging in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.user import User
from wheelyard.http.transaction import transaction
from wheelyard.services import audit, clock
from wheelyard.services.accounts import logins, mail, password_reset, rate_limit, two_factor, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.audit import Origin
from wheelyard.services.projects import maintainers
from wheelyard.web import session as session_auth
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render

# Deliberately loose: the address only has to look deliverable; one "@", a dot after it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_NEXT_LENGTH = 2048
# Longer than any TOTP or recovery code, however spaced: such input is simply wrong.
_MAX_CODE_LENGTH = 64
_NOTICE = "account_notice"
# Pages that show a secret (recovery codes, a reset link's form) must not be kept anywhere.
_NO_STORE = {"Cache-Control": "no-store"}
# Rows of the account page's "Recent security events".
_SECURITY_EVENTS = 20

LOGIN_FAILED_MESSAGE = "The email address or password is not right."
LOGINS_LIMITED_MESSAGE = "Too many failed logins. Wait a while, then try again."
REGISTRATIONS_LIMITED_MESSAGE = "Too many accounts were created from here. Try again later."
CODES_LIMITED_MESSAGE = "Too many wrong codes. Wait a while, then try again."
WRONG_CODE_MESSAGE = "That code is not right."
RESET_SENT_MESSAGE = (
    "If an account exists for that address, we sent it a link to choose a new password."
)
RESETS_LIMITED_MESSAGE = "Too many reset emails were asked for. Wait a while, then try again."
RESET_LINK_INVALID_MESSAGE = (
    "This reset link is not valid: it has expired, was used already, or a newer one was sent."
)


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
    """The account of the session, if it still exists, is active and the session current."""
    who = session_auth.session_user(request)
    if who is None:
        return None
    return users.session_holder(db, who.id, session_auth.session_generation(request))


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


def _code(form: FormData) -> str:
    code = _text(form, "code")
    return code if len(code) <= _MAX_CODE_LENGTH else ""


def _new_password_errors(password: str, confirm: str) -> list[str]:
    if len(password) < users.MIN_PASSWORD_LENGTH:
        return [f"Choose a password of at least {users.MIN_PASSWORD_LENGTH} characters."]
    if len(password) > users.MAX_PASSWORD_LENGTH:
        return [f"The password is longer than {users.MAX_PASSWORD_LENGTH} characters."]
    if password != confirm:
        return ["The two passwords differ."]
    return []


def _flash(request: Request, message: str) -> None:
    request.session[_NOTICE] = message


def _take_notice(request: Request) -> str | None:
    notice = request.session.pop(_NOTICE, None)
    return notice if isinstance(notice, str) else None


# --- registering and logging in -------------------------------------------------------------


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
        elif len(self.name) > users.MAX_DISPLAY_NAME_LENGTH:
            self.errors.append(
                f"The name is longer than {users.MAX_DISPLAY_NAME_LENGTH} characters."
            )
        if len(self.email) > users.MAX_EMAIL_LENGTH or not _EMAIL.match(self.email):
            self.errors.append("Enter a valid email address.")
        self.errors.extend(_new_password_errors(self.password, self.confirm))
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
        elif (
            len(self.email) > users.MAX_EMAIL_LENGTH
            or len(self.password) > users.MAX_PASSWORD_LENGTH
            or "\x00" in self.email
        ):
            # Cannot belong to any account (and PostgreSQL cannot even compare a NUL): said
            # the same way as any failed login.
            self.errors.append(LOGIN_FAILED_MESSAGE)
        return not self.errors


@dataclass
class CodeForm:
    """The one field of the two-factor forms: a TOTP code or a recovery code."""

    code: str
    errors: list[str] = field(default_factory=list)


async def register(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "account/register.html", form=None)
    form = RegisterForm.from_form(await verified_form(request))
    if not form.validate():
        return render(request, "account/register.html", status_code=400, form=form)
    passwords: Passwords = request.app.state.passwords
    origin = origin_of(request)
    email = users.normalize_email(form.email)
    with transaction(request) as db:
        limit = rate_limit.registration_limit_reached(db, ip_address=origin.ip_address, email=email)
        if limit is not None:
            form.errors.append(REGISTRATIONS_LIMITED_MESSAGE)
            return _too_many(request, "account/register.html", limit, form=form)
        try:
            user = users.create_user(
                db, passwords, name=form.name, email=form.email, password=form.password
            )
        except users.AccountError as error:
            # Counted: trying addresses at sign-up is a way to learn which have accounts.
            audit.record(db, audit.Action.REGISTER_FAILED, origin=origin, detail=email)
            form.errors.append(str(error))
            return render(request, "account/register.html", status_code=400, form=form)
        audit.record(db, audit.Action.REGISTER, origin=origin, user_id=user.id)
        user.last_login = clock.now()
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
    with transaction(request) as db:
        attempt = logins.attempt_login(
            db, passwords, email=form.email, password=form.password, origin=origin
        )
        if attempt.limit is not None:
            form.errors.append(LOGINS_LIMITED_MESSAGE)
            return _too_many(
                request, "account/login.html", attempt.limit, form=form, next=form.next
            )
        if attempt.second_factor is not None:
            session_auth.start_second_factor(request, attempt.second_factor, form.next)
            return RedirectResponse("/account/login/two-factor", status_code=303)
        user = attempt.user
        if user is not None:
            audit.record(db, audit.Action.LOGIN, origin=origin, user_id=user.id)
            session_auth.log_in(request, user)
    if user is None:
        form.errors.append(LOGIN_FAILED_MESSAGE)
        return render(request, "account/login.html", status_code=400, form=form, next=form.next)
    return RedirectResponse(form.next, status_code=303)


async def login_two_factor(request: Request) -> Response:
    """The second step of a login, for accounts with two-factor login on."""
    if request.method == "GET":
        if session_auth.pending_login(request) is None:
            return RedirectResponse("/account/login", status_code=303)
        return render(request, "account/login_two_factor.html", form=None)
    form = CodeForm(code=_code(await verified_form(request)))
    pending = session_auth.pending_login(request)
    if pending is None:
        # Too late, or logged out elsewhere meanwhile: the password is asked for again.
        session_auth.log_out(request)
        return RedirectResponse("/account/login", status_code=303)
    origin = origin_of(request)
    with transaction(request) as db:
        user = users.session_holder(db, pending.user_id, pending.generation)
        if user is None or not two_factor.is_enabled(user):
            session_auth.log_out(request)
            return RedirectResponse("/account/login", status_code=303)
        check = two_factor.check_code(db, user, form.code, origin=origin, purpose="login")
        if check.limit is not None:
            form.errors.append(CODES_LIMITED_MESSAGE)
            return _too_many(request, "account/login_two_factor.html", check.limit, form=form)
        if check.method is None:
            form.errors.append(WRONG_CODE_MESSAGE)
            return render(request, "account/login_two_factor.html", status_code=400, form=form)
        user.last_login = clock.now()
        audit.record(db, audit.Action.LOGIN, origin=origin, user_id=user.id, detail=check.method)
        session_auth.log_in(request, user)
        if check.method is two_factor.Method.RECOVERY_CODE:
            left = two_factor.remaining_recovery_codes(db, user)
            _flash(request, f"You used a recovery code; {left} are left.")
            return RedirectResponse("/account/two-factor", status_code=303)
    return RedirectResponse(pending.next, status_code=303)


async def logout(request: Request) -> Response:
    await verified_form(request)
    who = session_auth.session_user(request)
    if who is not None:
        with transaction(request) as db:
            user = db.get(User, who.id)
            if user is not None:
                # Logging out ends the account's sessions everywhere, not only this cookie.
                users.end_sessions(user)
            audit.record(db, audit.Action.LOGOUT, origin=origin_of(request), user_id=who.id)
    session_auth.log_out(request)
    return RedirectResponse("/", status_code=303)


# --- the account page and changing the password ---------------------------------------------


@dataclass
class PasswordChangeForm:
    current: str
    password: str
    confirm: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData) -> PasswordChangeForm:
        return cls(
            current=_text(form, "current_password"),
            password=_text(form, "new_password"),
            confirm=_text(form, "confirm"),
        )

    def validate(self) -> bool:
        if not self.current or len(self.current) > users.MAX_PASSWORD_LENGTH:
            self.errors.append("Enter your current password.")
        self.errors.extend(_new_password_errors(self.password, self.confirm))
        return not self.errors


def _account_page(
    request: Request,
    db: Session,
    user: User,
    *,
    password_form: PasswordChangeForm | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "account/index.html",
        status_code=status_code,
        # The page lists addresses and user agents from the account's security events.
        headers={**_NO_STORE, **(headers or {})},
        user=user,
        projects=maintainers.projects_of(db, user.id),
        events=audit.recent_for_user(db, user.id, limit=_SECURITY_EVENTS),
        two_factor_on=two_factor.is_enabled(user),
        notice=_take_notice(request),
        form=password_form,
    )


async def account(request: Request) -> Response:
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        return _account_page(request, db, user)


async def change_password(request: Request) -> Response:
    form = PasswordChangeForm.from_form(await verified_form(request))
    passwords: Passwords = request.app.state.passwords
    origin = origin_of(request)
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return RedirectResponse("/account/login?next=/account", status_code=303)
        if not form.validate():
            return _account_page(request, db, user, password_form=form, status_code=400)
        # Guessing the current password here is guessing the login password: same limits.
        limit = rate_limit.login_limit_reached(
            db, email=user.email, ip_address=origin.ip_address, user_id=user.id
        )
        if limit is not None:
            form.errors.append(LOGINS_LIMITED_MESSAGE)
            headers = {"Retry-After": str(limit.retry_after_seconds)}
            return _account_page(
                request, db, user, password_form=form, status_code=429, headers=headers
            )
        if not passwords.verify(user.hashed_password, form.current).ok:
            audit.record(
                db, audit.Action.LOGIN_FAILED, origin=origin, user_id=user.id, detail=user.email
            )
            form.errors.append("Your current password is not right.")
            return _account_page(request, db, user, password_form=form, status_code=400)
        users.change_password(db, passwords, user, form.password)
        audit.record(db, audit.Action.PASSWORD_CHANGED, origin=origin, user_id=user.id)
        # Every other session has ended; this one goes on under the new generation.
        session_auth.log_in(request, user)
        _flash(request, "Your password was changed. Every other session was logged out.")
    return RedirectResponse("/account", status_code=303)


# --- password reset ---------------------------------------------------------------------------


@dataclass
class ResetRequestForm:
    email: str
    errors: list[str] = field(default_factory=list)


def _reset_base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.public_url or str(request.base_url)


async def reset_request(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    server = mail.smtp_server(settings)
    template = "account/reset_request.html"
    if request.method == "GET":
        return render(request, template, available=server is not None, form=None)
    form = ResetRequestForm(email=_text(await verified_form(request), "email").strip())
    if server is None:
        return render(request, template, status_code=400, available=False, form=None)
    if len(form.email) > users.MAX_EMAIL_LENGTH or not _EMAIL.match(form.email):
        form.errors.append("Enter a valid email address.")
        return render(request, template, status_code=400, available=True, form=form)
    origin = origin_of(request)
    with transaction(request) as db:
        asked = password_reset.request_reset(
            db, email=form.email, origin=origin, minutes=settings.password_reset_minutes
        )
        if asked.limit is not None:
            form.errors.append(RESETS_LIMITED_MESSAGE)
            return _too_many(request, template, asked.limit, available=True, form=form)
    response = render(request, template, available=True, form=None, sent=True)
    if asked.user is not None and asked.token is not None:
        message = password_reset.reset_email(
            server,
            to=asked.user.email,
            url=password_reset.reset_url(_reset_base_url(request), asked.token),
            minutes=settings.password_reset_minutes,
            site_name=settings.site_name,
        )
        # After the answer is sent, with the token committed: the answer takes as long for
        # an address without an account, and a slow or broken mail server cannot fail it.
        response.background = BackgroundTask(mail.send_or_log, server, message)
    return response


@dataclass
class NewPasswordForm:
    password: str
    confirm: str
    errors: list[str] = field(default_factory=list)


async def reset_password(request: Request) -> Response:
    token: str = request.path_params["token"]
    template = "account/reset_password.html"
    if request.method == "GET":
        with transaction(request) as db:
            valid = password_reset.find_valid(db, token) is not None
        return render(
            request,
            template,
            status_code=200 if valid else 404,
            headers=_NO_STORE,
            valid=valid,
            token=token,
            form=None,
        )
    data = await verified_form(request)
    form = NewPasswordForm(password=_text(data, "new_password"), confirm=_text(data, "confirm"))
    form.errors.extend(_new_password_errors(form.password, form.confirm))
    passwords: Passwords = request.app.state.passwords
    with transaction(request) as db:
        if form.errors:
            valid = password_reset.find_valid(db, token) is not None
            return render(
                request,
                template,
                status_code=400 if valid else 404,
                headers=_NO_STORE,
                valid=valid,
                token=token,
                form=form,
            )
        user = password_reset.redeem(db, passwords, token, form.password, origin=origin_of(request))
    if user is None:
        return render(
            request, template, status_code=404, headers=_NO_STORE, valid=False, token=token
        )
    # Not logged in: an account with two-factor login must still give its second factor.
    session_auth.log_out(request)
    return render(request, template, headers=_NO_STORE, valid=True, done=True, token=None)


# --- two-factor set-up ------------------------------------------------------------------------


def _two_factor_page(
    request: Request,
    db: Session,
    user: User,
    *,
    form: CodeForm | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    context: dict[str, object] = {}
    if two_factor.is_enabled(user):
        context["remaining"] = two_factor.remaining_recovery_codes(db, user)
    else:
        settings: Settings = request.app.state.settings
        secret = two_factor.pending_secret(user)
        uri = two_factor.provisioning_uri(secret, account=user.email, issuer=settings.site_name)
        context["qr_code"] = two_factor.qr_code_data_uri(uri)
        context["secret"] = two_factor.formatted_secret(secret)
    return render(
        request,
        "account/two_factor.html",
        status_code=status_code,
        headers={**_NO_STORE, **(headers or {})},
        user=user,
        enabled=two_factor.is_enabled(user),
        notice=_take_notice(request),
        form=form,
        **context,
    )


async def two_factor_settings(request: Request) -> Response:
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        return _two_factor_page(request, db, user)


def _recovery_codes_page(request: Request, codes: list[str], *, first_time: bool) -> Response:
    return render(
        request,
        "account/recovery_codes.html",
        headers=_NO_STORE,
        codes=codes,
        first_time=first_time,
    )


async def two_factor_enable(request: Request) -> Response:
    form = CodeForm(code=_code(await verified_form(request)))
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return RedirectResponse("/account/login?next=/account/two-factor", status_code=303)
        try:
            codes = two_factor.enable(db, user, form.code, origin=origin_of(request))
        except two_factor.TwoFactorError as error:
            form.errors.append(str(error))
            return _two_factor_page(request, db, user, form=form, status_code=400)
    return _recovery_codes_page(request, codes, first_time=True)


async def two_factor_disable(request: Request) -> Response:
    form = CodeForm(code=_code(await verified_form(request)))
    origin = origin_of(request)
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return RedirectResponse("/account/login?next=/account/two-factor", status_code=303)
        refused = _check_current_code(request, db, user, form, purpose="disable two-factor")
        if refused is not None:
            return refused
        two_factor.disable(db, user, origin=origin)
        _flash(request, "Two-factor login is off.")
    return RedirectResponse("/account", status_code=303)


async def two_factor_recovery_codes(request: Request) -> Response:
    form = CodeForm(code=_code(await verified_form(request)))
    origin = origin_of(request)
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return RedirectResponse("/account/login?next=/account/two-factor", status_code=303)
        refused = _check_current_code(request, db, user, form, purpose="new recovery codes")
        if refused is not None:
            return refused
        codes = two_factor.replace_recovery_codes(db, user)
        audit.record(db, audit.Action.RECOVERY_CODES_REPLACED, origin=origin, user_id=user.id)
    return _recovery_codes_page(request, codes, first_time=False)


def _check_current_code(
    request: Request, db: Session, user: User, form: CodeForm, *, purpose: str
) -> Response | None:
    """None when ``form`` holds a current code of ``user``; otherwise the page to answer."""
    if not two_factor.is_enabled(user):
        form.errors.append("Two-factor login is not on.")
        return _two_factor_page(request, db, user, form=form, status_code=400)
    check = two_factor.check_code(db, user, form.code, origin=origin_of(request), purpose=purpose)
    if check.limit is not None:
        form.errors.append(CODES_LIMITED_MESSAGE)
        headers = {"Retry-After": str(check.limit.retry_after_seconds)}
        return _two_factor_page(request, db, user, form=form, status_code=429, headers=headers)
    if check.method is None:
        form.errors.append(WRONG_CODE_MESSAGE)
        return _two_factor_page(request, db, user, form=form, status_code=400)
    return None


routes: list[BaseRoute] = [
    Route("/account/register", register, methods=["GET", "POST"], name="register"),
    Route("/account/login", login, methods=["GET", "POST"], name="login"),
    Route(
        "/account/login/two-factor",
        login_two_factor,
        methods=["GET", "POST"],
        name="login_two_factor",
    ),
    Route("/account/logout", logout, methods=["POST"], name="logout"),
    Route("/account", account, name="account"),
    Route("/account/password", change_password, methods=["POST"], name="change_password"),
    Route("/account/reset", reset_request, methods=["GET", "POST"], name="reset_request"),
    Route("/account/reset/{token}", reset_password, methods=["GET", "POST"], name="reset_password"),
    Route("/account/two-factor", two_factor_settings, name="two_factor"),
    Route(
        "/account/two-factor/enable",
        two_factor_enable,
        methods=["POST"],
        name="two_factor_enable",
    ),
    Route(
        "/account/two-factor/disable",
        two_factor_disable,
        methods=["POST"],
        name="two_factor_disable",
    ),
    Route(
        "/account/two-factor/recovery-codes",
        two_factor_recovery_codes,
        methods=["POST"],
        name="two_factor_recovery_codes",
    ),
]
