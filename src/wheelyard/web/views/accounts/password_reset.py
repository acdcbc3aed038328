"""Resetting a forgotten password: asking for a reset link by email, then choosing a new
password through it."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services.accounts import mail, password_reset
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.web import session
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render
from wheelyard.web.views.accounts.forms import is_email_address, new_password_errors, text_field
from wheelyard.web.views.accounts.responses import NO_STORE, too_many

RESET_SENT_MESSAGE = (
    "If an account exists for that address, we sent it a link to choose a new password."
)
RESETS_LIMITED_MESSAGE = "Too many reset emails were asked for. Wait a while, then try again."
RESET_LINK_INVALID_MESSAGE = (
    "This reset link is not valid: it has expired, was used already, or a newer one was sent."
)


@dataclass
class ResetRequestForm:
    email: str
    errors: list[str] = field(default_factory=list)


def _unavailable(settings: Settings) -> str | None:
    """Why this index mails no reset links, or None when it does.

    The link's address comes only from the configured public URL: built from the request's
    Host header, it would go wherever the asker pointed it, token and all.
    """
    if mail.smtp_server(settings) is None:
        return "no-mail-server"
    if settings.public_url is None:
        return "no-public-url"
    return None


async def reset_request(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    server = mail.smtp_server(settings)
    unavailable = _unavailable(settings)
    template = "account/reset_request.html"
    if request.method == "GET":
        return render(request, template, unavailable=unavailable, form=None)
    form = ResetRequestForm(email=text_field(await verified_form(request), "email").strip())
    if server is None or settings.public_url is None:
        return render(request, template, status_code=400, unavailable=unavailable, form=None)
    if not is_email_address(form.email):
        form.errors.append("Enter a valid email address.")
        return render(request, template, status_code=400, unavailable=None, form=form)
    origin = client_origin(request)
    with transaction(request) as db:
        asked = password_reset.request_reset(
            db, email=form.email, origin=origin, minutes=settings.password_reset_minutes
        )
        if asked.limit is not None:
            form.errors.append(RESETS_LIMITED_MESSAGE)
            return too_many(request, template, asked.limit, unavailable=None, form=form)
    response = render(request, template, unavailable=None, form=None, sent=True)
    if asked.user is not None and asked.token is not None:
        message = password_reset.reset_email(
            server,
            to=asked.user.email,
            url=password_reset.reset_url(settings.public_url, asked.token),
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
            headers=NO_STORE,
            valid=valid,
            token=token,
            form=None,
        )
    data = await verified_form(request)
    form = NewPasswordForm(
        password=text_field(data, "new_password"), confirm=text_field(data, "confirm")
    )
    form.errors.extend(new_password_errors(form.password, form.confirm))
    passwords: Passwords = request.app.state.passwords
    with transaction(request) as db:
        if form.errors:
            valid = password_reset.find_valid(db, token) is not None
            return render(
                request,
                template,
                status_code=400 if valid else 404,
                headers=NO_STORE,
                valid=valid,
                token=token,
                form=form,
            )
        user = password_reset.redeem(
            db, passwords, token, form.password, origin=client_origin(request)
        )
    if user is None:
        return render(
            request, template, status_code=404, headers=NO_STORE, valid=False, token=token
        )
    # Not logged in: an account with two-factor login must still give its second factor.
    session.log_out(request)
    return render(request, template, headers=NO_STORE, valid=True, done=True, token=None)


routes: list[BaseRoute] = [
    Route("/account/reset", reset_request, methods=["GET", "POST"], name="reset_request"),
    Route("/account/reset/{token}", reset_password, methods=["GET", "POST"], name="reset_password"),
]
