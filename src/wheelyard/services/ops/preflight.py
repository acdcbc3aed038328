"""``wheelyard check``: the settings and every connection they name, checked before a start.

Each finding is one ``Check``: a problem (the start would fail, or the server would run
wrongly) or an ok line saying what was found. Nothing is created or changed: no database
file, no secret key, no schema; the storage's probe blob is removed at once.
"""

from __future__ import annotations

import inspect
import os
import re
import smtplib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from wheelyard import config
from wheelyard.config import Settings
from wheelyard.services.ops import health, schema
from wheelyard.services.ops.health import Check
from wheelyard.storage.factory import create_storage

PREFIX = "WHEELYARD_"
CONNECT_SECONDS = 5
# Shorter than this, a session-signing key is guessable.
MIN_SECRET_LENGTH = 32
# Read by the test suite, not by the server.
NOT_SETTINGS = frozenset({"WHEELYARD_TEST_POSTGRES_URL"})
# A placeholder while settings are parsed: from_env would otherwise write a new key file.
_PARSE_SECRET = "x" * MIN_SECRET_LENGTH


def known_variables() -> frozenset[str]:
    """Every variable Settings.from_env reads: the one place that lists them."""
    return frozenset(re.findall(r"WHEELYARD_[A-Z0-9_]+", inspect.getsource(config)))


def settings_checks(environ: Mapping[str, str]) -> tuple[list[Check], Settings]:
    """A problem for each variable that does not parse or that nothing reads, and the
    settings with those left at their defaults (so the connections can still be checked)."""
    found: list[Check] = []
    known = known_variables()
    usable = {name: value for name, value in environ.items() if name.startswith(PREFIX)}
    for name in sorted(usable):
        if name in NOT_SETTINGS:
            del usable[name]
        elif name not in known:
            found.append(Check(name, False, "not a wheelyard setting (misspelt?)"))
            del usable[name]
    for name in sorted(usable):
        alone = {"WHEELYARD_SECRET_KEY": _PARSE_SECRET, name: usable[name]}
        try:
            Settings.from_env(alone)
        except ValueError as error:
            found.append(Check(name, False, str(error)))
            del usable[name]
    secret_given = bool(usable.get("WHEELYARD_SECRET_KEY"))
    settings = Settings.from_env({"WHEELYARD_SECRET_KEY": _PARSE_SECRET, **usable})
    if not secret_given:
        settings = replace(settings, secret_key="")
    if not found:
        found.append(Check("settings", True, "every WHEELYARD_ variable parses"))
    return found, settings


def secret_key(settings: Settings) -> Check:
    if settings.secret_key:
        if len(settings.secret_key) < MIN_SECRET_LENGTH:
            return Check(
                "secret key",
                False,
                f"WHEELYARD_SECRET_KEY has {len(settings.secret_key)} characters; use "
                f"{MIN_SECRET_LENGTH} or more (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')",
            )
        return Check("secret key", True, "from WHEELYARD_SECRET_KEY")
    var_dir = settings.var_dir or config.DEFAULT_VAR_DIR
    path = var_dir / "secret_key"
    if not path.exists():
        problem = _not_creatable(var_dir)
        if problem:
            return Check("secret key", False, f"none yet, and {problem}")
        return Check("secret key", True, f"none yet: the first start writes {path}")
    try:
        key = path.read_text().strip()
    except OSError as error:
        return Check("secret key", False, f"{path} unreadable: {error.strerror}")
    if not key:
        return Check("secret key", False, f"{path} is empty: remove it and a start writes one")
    if path.stat().st_mode & 0o077:
        return Check("secret key", False, f"{path} is readable by other users: chmod 600 it")
    return Check("secret key", True, f"from {path}")


def _not_creatable(directory: Path) -> str | None:
    """Why ``directory`` cannot be made (or written, if it is there); None if it can."""
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def database(settings: Settings) -> list[Check]:
    url = sa.make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database))
        if not path.exists():
            problem = _not_creatable(path.parent)
            if problem:
                return [Check("database", False, f"{shown}: cannot be created: {problem}")]
            return [
                Check("database", True, f"{shown} does not exist yet: the first start creates it")
            ]
        # Read only: a check never writes, and never creates a -wal it then leaves behind.
        engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    else:
        arguments = (
            {"connect_timeout": CONNECT_SECONDS} if url.get_backend_name() == "postgresql" else {}
        )
        try:
            engine = sa.create_engine(url, connect_args=arguments)
        except Exception as error:
            return [Check("database", False, f"{shown}: {health.short_reason(error)}")]
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = schema.current_revision(connection)
    except Exception as error:
        return [Check("database", False, f"{shown} unreachable: {health.short_reason(error)}")]
    finally:
        engine.dispose()
    head = schema.head_revision()
    found = [Check("database", True, f"{shown} reachable")]
    if current == head:
        found.append(Check("migrations", True, f"at head ({head})"))
    elif current is None:
        found.append(
            Check("migrations", True, f"no schema yet: the first start builds it ({head})")
        )
    elif current in schema.known_revisions():
        found.append(
            Check(
                "migrations",
                True,
                f"at {current}, {head} pending: the next start (or wheelyard db upgrade)"
                " applies it",
            )
        )
    else:
        found.append(
            Check("migrations", False, f"at {current}, which this version does not know: newer?")
        )
    return found


def storage(settings: Settings) -> Check:
    if settings.storage_url is None:
        root = settings.storage_path
        if not root.exists():
            problem = _not_creatable(root)
            if problem:
                return Check("storage", False, f"{root} cannot be created: {problem}")
            return Check("storage", True, f"{root} does not exist yet: the first start creates it")
        where = str(root)
    else:
        where = settings.storage_url
    try:
        files = create_storage(settings)
    except Exception as error:
        return Check("storage", False, f"{where}: {health.short_reason(error)}")
    found = health.storage_writable(files)
    return Check("storage", found.ok, f"{where} {found.detail}")


def var_dir(settings: Settings) -> Check:
    directory = settings.var_dir or config.DEFAULT_VAR_DIR
    problem = _not_creatable(directory)
    if problem:
        return Check("var dir", False, problem)
    if not directory.exists():
        return Check("var dir", True, f"{directory} does not exist yet: the first start creates it")
    return Check("var dir", True, f"{directory} writable")


def upstreams(settings: Settings) -> list[Check]:
    found = []
    for url in settings.upstream_urls:
        parts = urlsplit(url)
        # Credentials in the URL are never printed.
        shown = (
            f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        )
        found.append(Check("upstream", True, f"{shown} well-formed"))
    return found


def public_url(settings: Settings) -> list[Check]:
    if settings.public_url is None:
        return []
    if urlsplit(settings.public_url).scheme == "https" and not settings.https_only:
        return [
            Check(
                "public URL",
                False,
                f"{settings.public_url} is https but WHEELYARD_HTTPS_ONLY is off: session "
                "cookies would not be marked Secure",
            )
        ]
    return [Check("public URL", True, settings.public_url)]


def smtp(settings: Settings) -> list[Check]:
    if settings.smtp_host is None:
        return []
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        # A greeting read and a QUIT sent: the server hangs up cleanly, and something that
        # listens on the port but speaks no SMTP is found out.
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=CONNECT_SECONDS):
            pass
    except smtplib.SMTPException as error:
        return [Check("smtp", False, f"{where} answers, but not as a mail server: {error}")]
    except OSError as error:
        return [Check("smtp", False, f"{where} unreachable: {error.strerror or error}")]
    return [Check("smtp", True, f"{where} reachable")]


def run_all(environ: Mapping[str, str]) -> list[Check]:
    found, settings = settings_checks(environ)
    return [
        *found,
        secret_key(settings),
        var_dir(settings),
        *database(settings),
        storage(settings),
        *upstreams(settings),
        *public_url(settings),
        *smtp(settings),
    ]
