"""Two-factor login set-up on the account: turning it on (QR code, first recovery codes), off,
and replacing the recovery codes.

Turning it off and new recovery codes both ask for a current code first, so a session left
open on a shared machine cannot quietly weaken the account.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.data.user import User
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services import audit
from wheelyard.services.accounts import two_factor
from wheelyard.web import session
from wheelyard.web.csrf import verified_form
from wheelyard.web.templating import render
from wheelyard.web.views.accounts.forms import CODES_LIMITED_MESSAGE, WRONG_CODE_MESSAGE, CodeForm
from wheelyard.web.views.accounts.notice import flash, take_notice
from wheelyard.web.views.accounts.responses import NO_STORE

# Where the two-factor forms send a session that has ended meanwhile.
_LOG_IN_AGAIN = "/account/login?next=/account/two-factor"


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
        secret = two_factor.pending_secret(user, request.app.state.secret_box)
        uri = two_factor.provisioning_uri(secret, account=user.email, issuer=settings.site_name)
        context["qr_code"] = two_factor.qr_code_data_uri(uri)
        context["secret"] = two_factor.formatted_secret(secret)
    return render(
        request,
        "account/two_factor.html",
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        user=user,
        enabled=two_factor.is_enabled(user),
        notice=take_notice(request),
        form=form,
        **context,
    )


def _recovery_codes_page(request: Request, codes: list[str], *, first_time: bool) -> Response:
    return render(
        request,
        "account/recovery_codes.html",
        headers=NO_STORE,
        codes=codes,
        first_time=first_time,
    )


def _check_current_code(
    request: Request, db: Session, user: User, form: CodeForm, *, purpose: str
) -> Response | None:
    """None when ``form`` holds a current code of ``user``; otherwise the page to answer."""
    if not two_factor.is_enabled(user):
        form.errors.append("Two-factor login is not on.")
        return _two_factor_page(request, db, user, form=form, status_code=400)
    origin = client_origin(request)
    check = two_factor.check_code(
        db, user, form.code, box=request.app.state.secret_box, origin=origin, purpose=purpose
    )
    if check.limit is not None:
        form.errors.append(CODES_LIMITED_MESSAGE)
        headers = {"Retry-After": str(check.limit.retry_after_seconds)}
        return _two_factor_page(request, db, user, form=form, status_code=429, headers=headers)
    if check.method is None:
        form.errors.append(WRONG_CODE_MESSAGE)
        return _two_factor_page(request, db, user, form=form, status_code=400)
    return None


async def two_factor_settings(request: Request) -> Response:
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return session.login_redirect(request)
        return _two_factor_page(request, db, user)


async def two_factor_enable(request: Request) -> Response:
    form = CodeForm.from_form(await verified_form(request))
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return RedirectResponse(_LOG_IN_AGAIN, status_code=303)
        try:
            codes = two_factor.enable(
                db,
                user,
                form.code,
                box=request.app.state.secret_box,
                origin=client_origin(request),
            )
        except two_factor.TwoFactorError as error:
            form.errors.append(str(error))
            return _two_factor_page(request, db, user, form=form, status_code=400)
    return _recovery_codes_page(request, codes, first_time=True)


async def two_factor_disable(request: Request) -> Response:
    form = CodeForm.from_form(await verified_form(request))
    origin = client_origin(request)
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return RedirectResponse(_LOG_IN_AGAIN, status_code=303)
        refused = _check_current_code(request, db, user, form, purpose="disable two-factor")
        if refused is not None:
            return refused
        two_factor.disable(db, user, origin=origin)
        flash(request, "Two-factor login is off.")
    return RedirectResponse("/account", status_code=303)


async def two_factor_recovery_codes(request: Request) -> Response:
    form = CodeForm.from_form(await verified_form(request))
    origin = client_origin(request)
    with transaction(request) as db:
        user = session.signed_in_user(request, db)
        if user is None:
            return RedirectResponse(_LOG_IN_AGAIN, status_code=303)
        refused = _check_current_code(request, db, user, form, purpose="new recovery codes")
        if refused is not None:
            return refused
        codes = two_factor.replace_recovery_codes(db, user)
        audit.record(db, audit.Action.RECOVERY_CODES_REPLACED, origin=origin, user_id=user.id)
    return _recovery_codes_page(request, codes, first_time=False)


routes: list[BaseRoute] = [
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
