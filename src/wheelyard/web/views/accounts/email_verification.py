"""Verifying an account's email address: the link mailed at sign-up (and again on asking
from the account page), and the page it opens."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services.accounts import email_verification, mail, rate_limit
from wheelyard.services.audit import Origin
from wheelyard.web import session
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render
from wheelyard.web.views.accounts.account import account_page
from wheelyard.web.views.accounts.notice import flash
from wheelyard.web.views.accounts.responses import NO_STORE

NO_PUBLIC_URL = (
    "No link to verify your email address could be mailed: this index's public address "
    "(WHEELYARD_PUBLIC_URL) is not set, and a link is only ever sent to that address. "
    "Ask an administrator to set it."
)
VERIFICATIONS_LIMITED_MESSAGE = (
    "Too many verification emails were asked for. Wait a while, then try again."
)
ALREADY_VERIFIED = "Your email address is verified already."


def sent_message(email: str) -> str:
    return (
        f"We mailed a link to {email}: follow it to verify your address. "
        "Until then, this account cannot upload."
    )


@dataclass(frozen=True)
class LinkMail:
    """A verification email to send once the transaction that counted it has committed."""

    server: mail.SmtpServer
    message: EmailMessage

    def task(self) -> BackgroundTask:
        # After the answer: a slow or broken mail server cannot fail the page.
        return BackgroundTask(mail.send_or_log, self.server, self.message)


def secret_keys(settings: Settings) -> tuple[str, ...]:
    return (settings.secret_key, *settings.old_secret_keys)


def prepare_link(
    db: Session, settings: Settings, user: User, origin: Origin
) -> LinkMail | rate_limit.Limit | None:
    """The email with a fresh link for ``user``, counted; a limit reached instead; None when
    the index cannot mail one.

    The link's address comes only from the configured public URL: built from the request's
    Host header, it would go wherever the asker pointed it.
    """
    server = mail.smtp_server(settings)
    if server is None or settings.public_url is None:
        return None
    limit = email_verification.record_sending(db, user, origin=origin)
    if limit is not None:
        return limit
    token = email_verification.make_token(secret_keys(settings), user)
    message = email_verification.verification_email(
        server,
        to=user.email,
        url=email_verification.verification_url(settings.public_url, token),
        site_name=settings.site_name,
    )
    return LinkMail(server, message)


async def send_again(request: Request) -> Response:
    await verified_form(request)
    settings: Settings = request.app.state.settings
    origin = client_origin(request)
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return RedirectResponse("/account/login?next=/account", status_code=303)
        if user.email_verified or mail.smtp_server(settings) is None:
            flash(request, ALREADY_VERIFIED)
            return RedirectResponse("/account", status_code=303)
        link = prepare_link(db, settings, user, origin)
        if link is None:
            return account_page(request, db, user, status_code=400, notice=NO_PUBLIC_URL)
        if isinstance(link, rate_limit.Limit):
            headers = {"Retry-After": str(link.retry_after_seconds)}
            return account_page(
                request,
                db,
                user,
                status_code=429,
                headers=headers,
                notice=VERIFICATIONS_LIMITED_MESSAGE,
            )
        flash(request, sent_message(user.email))
    response = RedirectResponse("/account", status_code=303)
    response.background = link.task()
    return response


async def verify(request: Request) -> Response:
    token: str = request.path_params["token"]
    settings: Settings = request.app.state.settings
    template = "account/verify_email.html"
    with transaction(request) as db:
        try:
            verified = email_verification.verify(
                db, secret_keys(settings), token, origin=client_origin(request)
            )
        except email_verification.InvalidLink as error:
            return render(request, template, status_code=400, headers=NO_STORE, error=str(error))
        email = verified.user.email
    return render(request, template, headers=NO_STORE, error=None, email=email)


routes: list[BaseRoute] = [
    Route("/account/verify", send_again, methods=["POST"], name="send_verification"),
    Route("/account/verify/{token}", verify, name="verify_email"),
]
