"""``/_health/live`` and ``/_health/ready``: for load balancers, orchestrators and monitors.

``live`` says the process answers, touching nothing else: a database that is down must not
get every worker restarted. ``ready`` says this server can do its work: the database
answers, its schema is at this version's head, and the file storage takes a write. It
answers 200 or 503, both with a JSON body naming each check and what failed. Both are
open on a private site and for any Host (a probe comes by the server's address), tell
nothing private, and are never cached.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.http.transaction import transaction
from wheelyard.services.ops import health
from wheelyard.services.ops.health import Check
from wheelyard.storage.base import FileStorage

PREFIX = "/_health/"
LIVE = PREFIX + "live"
READY = PREFIX + "ready"
NO_STORE = {"Cache-Control": "no-store"}
# A database or storage that does not answer within this long counts as failed: a probe
# must hear back before its own timeout.
CHECK_SECONDS = 5.0


async def live(_request: Request) -> Response:
    return JSONResponse({"status": "live"}, headers=NO_STORE)


def _database_checks(request: Request) -> list[Check]:
    try:
        with transaction(request) as db:
            return [health.database(db), health.migrations(db)]
    except Exception as error:
        return [
            Check("database", False, f"unreachable: {health.short_reason(error)}"),
            Check("migrations", False, "not checked: the database did not answer"),
        ]


async def _bounded(names: list[str], work: asyncio.Future[list[Check]]) -> list[Check]:
    try:
        return await asyncio.wait_for(work, CHECK_SECONDS)
    except TimeoutError:
        return [Check(name, False, f"no answer within {CHECK_SECONDS:g} s") for name in names]


async def ready(request: Request) -> Response:
    storage: FileStorage = request.app.state.storage
    database = asyncio.ensure_future(run_in_threadpool(_database_checks, request))
    files = asyncio.ensure_future(run_in_threadpool(lambda: [health.storage_writable(storage)]))
    checks = [
        *await _bounded(["database", "migrations"], database),
        *await _bounded(["storage"], files),
    ]
    failed = [check.name for check in checks if not check.ok]
    body = {
        "status": "ready" if not failed else "not ready",
        "failed": failed,
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    return JSONResponse(body, status_code=503 if failed else 200, headers=NO_STORE)


routes: list[BaseRoute] = [
    Route(LIVE, live, methods=["GET", "HEAD"]),
    Route(READY, ready, methods=["GET", "HEAD"]),
]
