"""The account's publishing page: trusted publishers for projects that do not exist yet.

A pending publisher creates its project on its first upload, owned by the account that
added it (services/oidc/publishers.py); the project's manage page takes over from then on.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.origin import client_origin
from wheelyard.http.transaction import transaction
from wheelyard.services.oidc import publishers
from wheelyard.services.oidc.publishers import PublisherError
from wheelyard.web.csrf import verified_form
from wheelyard.web.session import login_redirect, signed_in_user
from wheelyard.web.templating import render
from wheelyard.web.views.publisher_form import spec_from_form

URL = "/account/publishing"


@dataclass(frozen=True)
class PendingRow:
    id: int
    project_name: str
    description: str
    issuer: str


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and len(value) <= 1000 else ""


async def publishing(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    form = await verified_form(request) if request.method == "POST" else None
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        error: str | None = None
        if form is not None:
            if not settings.trusted_publishing:
                raise HTTPException(403, "Trusted publishing is turned off on this index.")
            try:
                publishers.add(
                    db,
                    _text(form, "project"),
                    spec_from_form(form),
                    issuers=publishers.trusted_issuers(settings.oidc_issuers),
                    added_by=user.id,
                    origin=client_origin(request),
                    pending_only=True,
                )
            except PublisherError as refused:
                db.rollback()
                error = str(refused)
            else:
                return RedirectResponse(URL, status_code=303)
        rows = [
            PendingRow(row.id, row.project_name, publishers.describe(row), row.issuer)
            for row in publishers.pending_of(db, user.id)
        ]
        return render(
            request,
            "account/publishing.html",
            status_code=400 if error else 200,
            pending=rows,
            error=error,
            trusted_publishing=settings.trusted_publishing,
        )


async def remove(request: Request) -> Response:
    form = await verified_form(request)
    text = _text(form, "publisher_id")
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise HTTPException(400, "That is not a pending publisher of yours.")
    with transaction(request) as db:
        user = signed_in_user(request, db)
        if user is None:
            return login_redirect(request)
        removed = publishers.remove_pending(db, int(text), user.id, origin=client_origin(request))
        if removed is None:
            raise HTTPException(404, "That is not a pending publisher of yours.")
    return RedirectResponse(URL, status_code=303)


routes: list[BaseRoute] = [
    Route(URL, publishing, methods=["GET", "POST"], name="publishing"),
    Route(URL + "/remove", remove, methods=["POST"], name="remove_pending_publisher"),
]
