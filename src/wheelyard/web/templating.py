"""The Jinja2 environment: one base layout, filters for sizes, dates and counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from wheelyard.services import audit
from wheelyard.web import csrf, session, site

TEMPLATES_DIR = Path(__file__).parent / "templates"


def filesize(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def date(value: dt.datetime | None) -> str:
    return value.strftime("%b %-d, %Y") if value else ""


def datetime_utc(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def number(value: int | None) -> str:
    return f"{value or 0:,}"


def create_templates(site_name: str, *, registration_open: bool = True) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters.update(
        filesize=filesize,
        date=date,
        datetime_utc=datetime_utc,
        number=number,
        audit_action=audit.describe,
    )
    env.globals.update(
        site_name=site_name, csrf_token=csrf.token_for, registration_open=registration_open
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


def render(
    request: Request,
    name: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    context.setdefault("current_user", session.session_user(request))
    flags = site.site_flags(request)
    context.setdefault("registration_open", site.registration_open(request))
    context.setdefault("read_only_reason", flags.read_only)
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
