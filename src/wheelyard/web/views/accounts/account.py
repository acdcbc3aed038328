"""The account page (projects, email verification and two-factor state, recent security
events) and changing the password from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services import audit
from wheelyard.services.accounts import email_verification, mail, rate_limit, two_factor, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.projects import maintainers
from wheelyard.web import session
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render
from wheelyard.web.views.accounts.forms import new_password_errors, text_field
from wheelyard.web.views.accounts.notice import flash, take_notice
from wheelyard.web.views.accounts.responses import NO_STORE
from wheelyard.web.views.accounts.sign_in import LOGINS_LIMITED_MESSAGE

# Rows of the account page's "Recent security events".
_SECURITY_EVENTS = 20


@dataclass
class PasswordChangeForm:
    current: str
    password: str
    confirm: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData) -> PasswordChangeForm:
        return cls(
            current=text_field(form, "current_password"),
            password=text_field(form, "new_password"),
            confirm=text_field(form, "confirm"),
        )

    def validate(self) -> bool:
        if not self.current or len(self.current) > users.MAX_PASSWORD_LENGTH:
            self.errors.append("Enter your current password.")
        self.errors.extend(new_password_errors(self.password, self.confirm))
        return not self.errors


def account_page(
    request: Request,
    db: Session,
    user: User,
    *,
    password_form: PasswordChangeForm | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    mails = mail.smtp_server(settings) is not None
    return render(
        request,
        "account/index.html",
        status_code=status_code,
        # The page lists addresses and user agents from the account's security events.
        headers={**NO_STORE, **(headers or {})},
        user=user,
        projects=maintainers.projects_of(db, user.id),
        events=audit.recent_for_user(db, user.id, limit=_SECURITY_EVENTS),
        two_factor_on=two_factor.is_enabled(user),
        notice=notice or take_notice(request),
        # Shown only while the index has a mail server: without one nothing is asked.
        verification_needed=email_verification.required(mails, user),
        can_mail_link=settings.public_url is not None,
        form=password_form,
    )


async def account(request: Request) -> Response:
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return session.login_redirect(request)
        return account_page(request, db, user)


async def change_password(request: Request) -> Response:
    form = PasswordChangeForm.from_form(await verified_form(request))
    passwords: Passwords = request.app.state.passwords
    origin = client_origin(request)
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return RedirectResponse("/account/login?next=/account", status_code=303)
        if not form.validate():
            return account_page(request, db, user, password_form=form, status_code=400)
        # Guessing the current password here is guessing the login password: same limits.
        limit = rate_limit.login_limit_reached(
            db, email=user.email, ip_address=origin.ip_address, user_id=user.id
        )
        if limit is not None:
            form.errors.append(LOGINS_LIMITED_MESSAGE)
            headers = {"Retry-After": str(limit.retry_after_seconds)}
            return account_page(
                request, db, user, password_form=form, status_code=429, headers=headers
            )
        if not passwords.verify(user.hashed_password, form.current).ok:
            audit.record(
                db, audit.Action.LOGIN_FAILED, origin=origin, user_id=user.id, detail=user.email
            )
            form.errors.append("Your current password is not right.")
            return account_page(request, db, user, password_form=form, status_code=400)
        users.change_password(db, passwords, user, form.password)
        audit.record(db, audit.Action.PASSWORD_CHANGED, origin=origin, user_id=user.id)
        # Every other session has ended; this one goes on under the new generation.
        session.log_in(request, user)
        flash(request, "Your password was changed. Every other session was logged out.")
    return RedirectResponse("/account", status_code=303)


routes: list[BaseRoute] = [
    Route("/account", account, name="account"),
    Route("/account/password", change_password, methods=["POST"], name="change_password"),
]
