"""Creating an account from the register form; the new account is logged in at once and,
while the index has a mail server, sent a link to verify its address before it uploads."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services import audit, clock
from wheelyard.services.accounts import mail, rate_limit, users
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.web import session
from wheelyard.web.csrf import verified_form
from wheelyard.web.site import registration_open
from wheelyard.web.templating import render
from wheelyard.web.views.accounts.email_verification import (
    NO_PUBLIC_URL,
    VERIFICATIONS_LIMITED_MESSAGE,
    LinkMail,
    prepare_link,
    sent_message,
)
from wheelyard.web.views.accounts.forms import is_email_address, new_password_errors, text_field
from wheelyard.web.views.accounts.notice import flash
from wheelyard.web.views.accounts.responses import too_many

REGISTRATION_CLOSED = (
    "Registration is closed on this index: ask an administrator of it for an account."
)
REGISTRATIONS_LIMITED_MESSAGE = "Too many accounts were created from here. Try again later."


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
            name=text_field(form, "name").strip(),
            email=text_field(form, "email").strip(),
            password=text_field(form, "password"),
            confirm=text_field(form, "confirm"),
        )

    def validate(self) -> bool:
        if not self.name:
            self.errors.append("Enter your name.")
        elif len(self.name) > (longest := users.MAX_DISPLAY_NAME_LENGTH):
            self.errors.append(f"The name is longer than {longest} characters.")
        if not is_email_address(self.email):
            self.errors.append("Enter a valid email address.")
        self.errors.extend(new_password_errors(self.password, self.confirm))
        return not self.errors


async def register(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not registration_open(request):
        raise HTTPException(status_code=403, detail=REGISTRATION_CLOSED)
    if request.method == "GET":
        return render(request, "account/register.html", form=None)
    form = RegisterForm.from_form(await verified_form(request))
    if not form.validate():
        return render(request, "account/register.html", status_code=400, form=form)
    passwords: Passwords = request.app.state.passwords
    origin = client_origin(request)
    email = users.normalize_email(form.email)
    # Without a mail server there is no way to check the address: nothing is asked then.
    mails = mail.smtp_server(settings) is not None
    link: LinkMail | rate_limit.Limit | None = None
    with transaction(request) as db:
        limit = rate_limit.registration_limit_reached(db, ip_address=origin.ip_address, email=email)
        if limit is not None:
            form.errors.append(REGISTRATIONS_LIMITED_MESSAGE)
            return too_many(request, "account/register.html", limit, form=form)
        try:
            user = users.create_user(
                db,
                passwords,
                name=form.name,
                email=form.email,
                password=form.password,
                email_verified=not mails,
            )
        except users.AccountError as error:
            # Counted: trying addresses at sign-up is a way to learn which have accounts.
            audit.record(db, audit.Action.REGISTER_FAILED, origin=origin, detail=email)
            form.errors.append(str(error))
            return render(request, "account/register.html", status_code=400, form=form)
        audit.record(db, audit.Action.REGISTER, origin=origin, user_id=user.id)
        user.last_login = clock.now()
        session.log_in(request, user)
        if mails:
            link = prepare_link(db, settings, user, origin)
            if isinstance(link, LinkMail):
                flash(request, sent_message(user.email))
            else:
                flash(request, NO_PUBLIC_URL if link is None else VERIFICATIONS_LIMITED_MESSAGE)
    response = RedirectResponse("/account", status_code=303)
    if isinstance(link, LinkMail):
        response.background = link.task()
    return response


routes: list[BaseRoute] = [
    Route("/account/register", register, methods=["GET", "POST"], name="register"),
]
