"""create_app(settings) -> the ASGI application: routes, middleware, templates, database."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection
from starlette.types import Scope

from wheelyard.api import metrics
from wheelyard.api.fast_path import CachedPages, answer_cached
from wheelyard.config import Settings
from wheelyard.data.db_session import (
    create_engine,
    database_unavailable,
    session_factory,
    transaction,
)
from wheelyard.http.allowed_hosts import AllowedHostsMiddleware
from wheelyard.http.body_timeout import BodyIdleTimeoutMiddleware
from wheelyard.http.origin import client_origin
from wheelyard.http.private_site import (
    PrivateSiteMiddleware,
    ReaderChecks,
    RememberedReaderLane,
)
from wheelyard.http.project_reader import PrivateAnswers, ProjectReaders
from wheelyard.http.read_only import ReadOnlyMiddleware
from wheelyard.http.security_headers import SecurityHeadersMiddleware
from wheelyard.http.slash_redirects import use_relative_slash_redirects
from wheelyard.routes import routes
from wheelyard.services.access import readers
from wheelyard.services.access.readers import RememberedReaders
from wheelyard.services.access.visibility import Reader
from wheelyard.services.accounts import rate_limit
from wheelyard.services.accounts.credentials import Credentials
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.accounts.sealed import SecretBox
from wheelyard.services.analytics.recorder import DownloadRecorder
from wheelyard.services.index.page_cache import ChangeSignal, PageCache
from wheelyard.services.oidc.keys import IssuerKeys
from wheelyard.services.projects import packages
from wheelyard.services.projects.image_proxy import ImageProxy
from wheelyard.services.projects.readme_images import ImageSigner
from wheelyard.services.site import flags as site_flags
from wheelyard.services.site.flags import FlagCache, Flags
from wheelyard.services.upstream import fetch as upstream_fetch
from wheelyard.services.xmlrpc.throttle import CallThrottle
from wheelyard.storage.factory import create_storage
from wheelyard.web import errors
from wheelyard.web.session import SessionCheckMiddleware, signed_in_id
from wheelyard.web.templating import create_templates

log = logging.getLogger(__name__)

SESSION_COOKIE = "wheelyard_session"
SESSION_MAX_AGE = 14 * 24 * 3600
# In the var directory: lets the workers of one server tell each other of a change at once.
CHANGE_SIGNAL = "index-changed"
# In the var directory: downloads on disk until they are in the database, one set of
# segment files per worker (services/analytics/spool.py).
DOWNLOAD_SPOOL = "download-spool"
# From this many projects on, each worker builds the /simple/ project list before it serves:
# at a million projects that takes a few seconds, which its first reader would otherwise
# wait (services/simple_listing.py). Smaller lists are built when first asked for.
BUILD_LISTING_AT_START = 50_000


def create_app(settings: Settings) -> Starlette:
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Read app.state.sessions only now: tests swap in their own factory after create_app.
        app.state.pages.watch(app.state.sessions)
        await run_in_threadpool(_build_big_listing, app)
        app.state.downloads.start()
        yield
        app.state.downloads.stop()  # writes the downloads still queued
        if app.state.upstream_http is not None:
            app.state.upstream_http.close()
        app.state.issuer_keys.close()
        engine.dispose()

    sessions = [
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.https_only,
        ),
        # Inside SessionMiddleware: it reads the session that one has just decoded.
        Middleware(SessionCheckMiddleware),
    ]
    # Cached simple pages, JSON documents and known files leave here, before the layers
    # only people's pages need; they bring their own security headers.
    # PrivateAnswers after them: the fast path serves public pages only.
    # The body timeout after them: cached answers read no body and never pass through it.
    served = [
        Middleware(CachedPages),
        Middleware(SecurityHeadersMiddleware),
        # Writes refused while the site is read-only; cached answers are reads and pass.
        Middleware(ReadOnlyMiddleware, flags=_site_flags),
        Middleware(PrivateAnswers),
        Middleware(
            BodyIdleTimeoutMiddleware,
            seconds=settings.body_idle_seconds,
            min_rate=settings.body_min_rate,
        ),
    ]
    # A private index checks who asks before anything is served, cached answers included,
    # so there the session comes first; credentials verified lately skip it (no cookie to read).
    layers = [*served, *sessions]
    if settings.private:
        checks = ReaderChecks(RememberedReaders[int](), _site_reader_verifier(settings))
        lane = Middleware(RememberedReaderLane, checks=checks, answer=answer_cached)
        layers = [lane, *sessions, _private_site(settings, checks), *served]
    app = Starlette(
        routes=routes(),
        middleware=[
            # First of all: nothing past here sees a Host header the operator did not list.
            Middleware(AllowedHostsMiddleware, permitted=settings.permitted_hosts()),
            *layers,
        ],
        exception_handlers={
            HTTPException: errors.http_error,
            # A database that is down or restarting: 503 rather than 500, until it is back.
            DBAPIError: errors.database_error,
            500: errors.server_error,
        },
        lifespan=lifespan,
    )
    use_relative_slash_redirects(app.router)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.site_flags = FlagCache(lambda: _read_flags(app))
    app.state.templates = create_templates(
        settings.site_name, registration_open=settings.registration_open
    )
    app.state.storage = create_storage(settings)
    app.state.passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_cost)
    # Seals two-factor secrets at rest; old keys still open what they sealed.
    app.state.secret_box = SecretBox(settings.secret_key, settings.old_secret_keys)
    # Per worker: rendered simple/JSON pages, and the queue of downloads to record.
    signal = ChangeSignal(settings.var_dir / CHANGE_SIGNAL) if settings.var_dir else None
    app.state.pages = PageCache(signal=signal, max_bytes=settings.page_cache_bytes)
    app.state.metrics = metrics.registry_for(app.state.pages)
    app.state.project_readers = ProjectReaders(
        verify=_reader_verifier(settings), signed_in=signed_in_id
    )
    spool = settings.var_dir / DOWNLOAD_SPOOL if settings.var_dir else None
    # Per worker: XML-RPC calls per client address (services/xmlrpc/throttle.py).
    app.state.xmlrpc_throttle = CallThrottle(
        rate_limit.Limit(attempts=settings.xmlrpc_calls_per_minute, window=dt.timedelta(minutes=1))
    )
    app.state.downloads = DownloadRecorder(lambda: app.state.sessions, spool_dir=spool)
    # One connection pool to the upstreams per worker (services/upstream), if there are any.
    app.state.upstream_http = (
        upstream_fetch.client(settings.upstream_timeout) if settings.upstream_urls else None
    )
    # README images (WHEELYARD_README_IMAGES): links signed with the site's key, fetched by
    # one proxy per worker with its own bounded cache.
    app.state.image_signer = ImageSigner(settings.secret_key)
    app.state.image_proxy = ImageProxy(allow_private=settings.readme_images_private)
    # Trusted publishing: each issuer's signing keys, cached per worker.
    app.state.issuer_keys = IssuerKeys()
    return app


def _read_flags(app: Starlette) -> Flags:
    # app.state.sessions read at each load: tests swap in their own factory after create_app.
    with transaction(app.state.sessions, writes=False) as db:
        return site_flags.read(db)


def _site_flags(scope: Scope) -> Flags:
    app: Starlette = scope["app"]
    cache: FlagCache = app.state.site_flags
    return cache.current()


def _reader_verifier(settings: Settings) -> Callable[[Scope, Credentials], Reader | None]:
    def verify(scope: Scope, credentials: Credentials) -> Reader | None:
        app: Starlette = scope["app"]
        origin = client_origin(HTTPConnection(scope))
        # A wrong password leaves an audit row (the login limits count them): a write.
        with transaction(app.state.sessions, writes=True) as db:
            return readers.reader_for(
                db,
                app.state.passwords,
                credentials,
                password_auth=settings.password_uploads,
                origin=origin,
            )

    return verify


def _site_reader_verifier(settings: Settings) -> Callable[[Scope, Credentials], int | None]:
    verify_reader = _reader_verifier(settings)

    def verify(scope: Scope, credentials: Credentials) -> int | None:
        reader = verify_reader(scope, credentials)
        return reader.user_id if reader is not None else None

    return verify


def _private_site(settings: Settings, checks: ReaderChecks) -> Middleware:
    open_paths = frozenset({"/account/register"}) if settings.registration_open else frozenset()
    if settings.metrics_token is not None:
        # Prometheus sends its Bearer token, which the endpoint checks itself.
        open_paths |= {metrics.PATH}
    return Middleware(
        PrivateSiteMiddleware,
        checks=checks,
        signed_in=signed_in_id,
        open_paths=open_paths,
    )


def _build_big_listing(app: Starlette) -> None:
    """Build the project list ahead of its first reader; a head start, never a condition
    of starting: on a database error the list is built when first asked for, and that
    request meets the error (503 while the database is away)."""
    try:
        with transaction(app.state.sessions, writes=False) as db:
            if packages.index_counts(db).projects >= BUILD_LISTING_AT_START:
                app.state.pages.listing.page(db)
    except DBAPIError as error:
        why = "unavailable" if database_unavailable(error) else "failing"
        log.warning("database %s at start (%s): the project list waits for a reader", why, error)
