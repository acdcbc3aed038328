"""Settings, read once from ``WHEELYARD_*`` environment variables into a frozen object.

Nothing here runs at import time: callers build a ``Settings`` (``Settings.from_env()`` in
production, the constructor in tests) and pass it to ``create_app``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_VAR_DIR = Path("var")
# The Host names a server answers when WHEELYARD_ALLOWED_HOSTS is unset (besides the public
# URL's host): the machine itself, however it is spelt.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_PAGE_CACHE_BYTES = 256 * 1024 * 1024


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///./{DEFAULT_VAR_DIR}/wheelyard.db"
    storage_path: Path = DEFAULT_VAR_DIR / "files"
    # The server's own working files (generated secret, the workers' change signal); None
    # when it has none (tests build Settings without one).
    var_dir: Path | None = None
    # ``s3://bucket/prefix`` keeps files in an S3-compatible object store instead of under
    # storage_path; None keeps them local.
    storage_url: str | None = None
    # With object storage, answer a download with a redirect to a presigned URL for this many
    # seconds instead of streaming the bytes through the server; 0 streams them.
    presigned_download_seconds: int = 0
    # One downloads row per served file; off only to measure what recording costs.
    record_downloads: bool = True
    # Signs session cookies; a random key per process would log everyone out on restart,
    # so from_env() keeps a generated key in the var directory.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Secret keys used before the current one: what they sealed (two-factor secrets) still
    # opens, and is sealed again under secret_key on its next use. Newest first.
    old_secret_keys: tuple[str, ...] = ()
    # Marks the session cookie Secure; on by default behind HTTPS, off for plain loopback.
    https_only: bool = False
    # Uploads (and a private index's reads) may authenticate with email + password as well
    # as with API tokens.
    password_uploads: bool = True
    # Every page and API needs a signed-in user or credentials (http/private_site.py).
    private: bool = False
    # Whether anyone may create an account; None: open, unless the index is private.
    registration: bool | None = None
    # What a project is at its first upload: "public", or "private" (seen only by those with
    # a role on it). Changed per project on its manage page or by the command line.
    default_visibility: str = "public"
    site_name: str = "wheelyard"
    # Outgoing mail (password-reset links); without a host the index sends none, and password
    # resets are not offered.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "wheelyard@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # How long an emailed password-reset link works.
    password_reset_minutes: int = 60
    # The address users reach the site at (https://pypi.example.com): the only source of
    # absolute links in emails. Unset, the index mails no links (a client chooses the Host
    # header, so a link built from it could point anywhere).
    public_url: str | None = None
    # The Host names requests may carry; any other gets 400. Empty means LOCAL_HOSTS. The
    # public URL's host is always allowed; "*" allows every host, "*.example.com" a domain.
    allowed_hosts: tuple[str, ...] = ()
    # Uploads one account may make (services/uploads/limits.py): files a minute, and new
    # projects an hour; past them a 429 with Retry-After. 0 is unlimited.
    upload_files_per_minute: int = 60
    new_projects_per_hour: int = 20
    # XML-RPC calls (POST /pypi) one client address may make a minute, per worker; past it
    # each call gets a fault saying when to try again. 0 is unlimited.
    xmlrpc_calls_per_minute: int = 120
    # How long an uploaded README may take to render before the upload is refused (400).
    readme_render_seconds: float = 10.0
    # What each worker's cache of rendered pages may hold, in bytes of page bodies; the
    # least recently used pages go first past it.
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_BYTES
    # The Bearer token /metrics asks for; None leaves it open (to whoever may read the site).
    metrics_token: str | None = None
    # How long a request body may go without a byte before it is answered 408 and its
    # connection closed: a client trickling an upload would otherwise hold a worker's slot.
    body_idle_seconds: float = 30.0
    # The slowest a request body may arrive on average (bytes a second) once that many
    # seconds have passed: a body trickling a byte at a time is cut too. 0: no minimum.
    body_min_rate: int = 500
    # Argon2id cost; tests lower it so a suite of logins stays quick.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    page_size: int = 20
    # Raw download rows older than this many days go at `wheelyard stats prune`; the daily
    # rollups keep their counts forever. 0 keeps raw rows forever.
    download_retention_days: int = 180
    # Simple indexes to pull projects from that have no local project, tried in order
    # (services/upstream); credentials may be in a URL. Empty: no upstream.
    upstream_urls: tuple[str, ...] = ()
    # How long a cached upstream page is served before it is revalidated (by ETag).
    upstream_ttl: int = 600
    # How long an upstream may take to answer before the cached copy is served instead.
    upstream_timeout: float = 10.0
    # fnmatch patterns of normalized names never fetched from an upstream (``acme-*``).
    upstream_block: tuple[str, ...] = ()
    # Supply-chain controls (services/upstream/policy.py). Upstream files uploaded less than
    # this many seconds ago are held back (a cooldown against freshly published malicious
    # releases); 0 is off.
    upstream_min_age: int = 0
    # fnmatch patterns of normalized names: only these upstream projects are served (empty:
    # all), and never these (deny wins). Refused names are never fetched.
    upstream_allow: tuple[str, ...] = ()
    upstream_deny: tuple[str, ...] = ()
    # External images in READMEs (services/projects/readme_images.py): "proxy" fetches them
    # through this index (readers' browsers ask no other host: no tracking pixels), "off"
    # drops them and keeps their alt text, "direct" leaves them pointing elsewhere.
    readme_images: str = "proxy"
    # The image proxy fetches from hosts on private or local networks too: for an index whose
    # READMEs point at an intranet host. Off, such images are refused (no SSRF).
    readme_images_private: bool = False
    # Trusted publishing (services/oidc): CI jobs exchange their OIDC identity for a
    # 15-minute upload token at /_/oidc/mint-token, for the projects whose publishers match.
    trusted_publishing: bool = True
    # The ``aud`` the CI jobs' tokens must carry; None: the site's name.
    oidc_audience: str | None = None
    # Issuers trusted besides GitHub's and GitLab.com's (self-hosted GitLab, Gitea,
    # Buildkite...): https URLs, or http on a loopback address.
    oidc_issuers: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("WHEELYARD_VAR_DIR", str(DEFAULT_VAR_DIR)))
        database_url = env.get("WHEELYARD_DATABASE_URL", f"sqlite:///{var_dir}/wheelyard.db")
        storage_path = Path(env.get("WHEELYARD_STORAGE_PATH", str(var_dir / "files")))
        secret_key = env.get("WHEELYARD_SECRET_KEY") or _persistent_secret(var_dir)
        return cls(
            database_url=database_url,
            storage_path=storage_path,
            var_dir=var_dir,
            storage_url=env.get("WHEELYARD_STORAGE_URL") or None,
            presigned_download_seconds=_seconds(env.get("WHEELYARD_PRESIGNED_DOWNLOADS", "0")),
            record_downloads=_flag(env.get("WHEELYARD_RECORD_DOWNLOADS", "1")),
            secret_key=secret_key,
            old_secret_keys=tuple(
                key.strip()
                for key in env.get("WHEELYARD_OLD_SECRET_KEYS", "").split(",")
                if key.strip()
            ),
            https_only=_flag(env.get("WHEELYARD_HTTPS_ONLY", "0")),
            password_uploads=_flag(env.get("WHEELYARD_PASSWORD_UPLOADS", "1")),
            private=_flag(env.get("WHEELYARD_PRIVATE", "0")),
            registration=_registration(env.get("WHEELYARD_REGISTRATION", "")),
            default_visibility=_visibility(env.get("WHEELYARD_DEFAULT_VISIBILITY", "")),
            site_name=env.get("WHEELYARD_SITE_NAME", "wheelyard"),
            download_retention_days=int(env.get("WHEELYARD_DOWNLOAD_RETENTION_DAYS", "180")),
            smtp_host=env.get("WHEELYARD_SMTP_HOST") or None,
            smtp_port=_port(env.get("WHEELYARD_SMTP_PORT", "25")),
            smtp_from=env.get("WHEELYARD_SMTP_FROM") or "wheelyard@localhost",
            smtp_user=env.get("WHEELYARD_SMTP_USER") or None,
            smtp_password=env.get("WHEELYARD_SMTP_PASSWORD") or None,
            smtp_starttls=_flag(env.get("WHEELYARD_SMTP_STARTTLS", "0")),
            password_reset_minutes=_minutes(env.get("WHEELYARD_PASSWORD_RESET_MINUTES", "60")),
            public_url=_public_url(env.get("WHEELYARD_PUBLIC_URL", "")),
            allowed_hosts=_hosts(env.get("WHEELYARD_ALLOWED_HOSTS", "")),
            upload_files_per_minute=_count(env, "WHEELYARD_UPLOAD_FILES_PER_MINUTE", "60"),
            xmlrpc_calls_per_minute=_count(env, "WHEELYARD_XMLRPC_CALLS_PER_MINUTE", "120"),
            new_projects_per_hour=_count(env, "WHEELYARD_NEW_PROJECTS_PER_HOUR", "20"),
            readme_render_seconds=_positive_seconds(env.get("WHEELYARD_README_SECONDS", "10")),
            page_cache_bytes=_bytes(
                env.get("WHEELYARD_PAGE_CACHE_BYTES", str(DEFAULT_PAGE_CACHE_BYTES)),
                "WHEELYARD_PAGE_CACHE_BYTES",
            ),
            metrics_token=env.get("WHEELYARD_METRICS_TOKEN", "").strip() or None,
            body_idle_seconds=_positive_seconds(env.get("WHEELYARD_BODY_IDLE_SECONDS", "30")),
            body_min_rate=_count(env, "WHEELYARD_BODY_MIN_RATE", "500"),
            upstream_urls=_upstream_urls(env.get("WHEELYARD_UPSTREAM_URL", "")),
            upstream_ttl=_seconds(env.get("WHEELYARD_UPSTREAM_TTL", "600")),
            upstream_timeout=_positive_seconds(env.get("WHEELYARD_UPSTREAM_TIMEOUT", "10")),
            upstream_block=_patterns(env.get("WHEELYARD_UPSTREAM_BLOCK", "")),
            upstream_min_age=_duration(
                "WHEELYARD_UPSTREAM_MIN_AGE", env.get("WHEELYARD_UPSTREAM_MIN_AGE", "")
            ),
            upstream_allow=_patterns(env.get("WHEELYARD_UPSTREAM_ALLOW", "")),
            upstream_deny=_patterns(env.get("WHEELYARD_UPSTREAM_DENY", "")),
            readme_images=_readme_images(env.get("WHEELYARD_README_IMAGES", "")),
            readme_images_private=_flag(env.get("WHEELYARD_README_IMAGES_PRIVATE", "0")),
            trusted_publishing=_flag(env.get("WHEELYARD_TRUSTED_PUBLISHING", "1")),
            oidc_audience=env.get("WHEELYARD_OIDC_AUDIENCE", "").strip() or None,
            oidc_issuers=_issuers(env.get("WHEELYARD_OIDC_ISSUERS", "")),
        )

    @property
    def registration_open(self) -> bool:
        """Whether anyone may sign up; on a private index only admins make accounts."""
        return (not self.private) if self.registration is None else self.registration

    @property
    def audience(self) -> str:
        """What trusted publishers' tokens must name as their audience."""
        return self.oidc_audience or self.site_name

    @property
    def site_root(self) -> str | None:
        """The public URL with a trailing slash, the root of absolute links; None unset."""
        return None if self.public_url is None else self.public_url + "/"

    def permitted_hosts(self) -> frozenset[str]:
        """The Host names (lower case, no port) this server answers."""
        hosts = {host.lower() for host in self.allowed_hosts or LOCAL_HOSTS}
        if self.public_url is not None and (public := urlsplit(self.public_url).hostname):
            hosts.add(public.lower())
        return frozenset(hosts)


def _public_url(value: str) -> str | None:
    value = value.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"expected an http(s) URL for WHEELYARD_PUBLIC_URL, got {value!r}")
    return value


def _upstream_urls(value: str) -> tuple[str, ...]:
    urls = []
    for item in value.split(","):
        url = item.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"expected http(s) URLs for WHEELYARD_UPSTREAM_URL, got {url!r}")
        # The project's page is the index URL plus "<name>/".
        urls.append(url if url.endswith("/") else url + "/")
    return tuple(urls)


def _issuers(value: str) -> tuple[str, ...]:
    """WHEELYARD_OIDC_ISSUERS: a JWT's ``iss`` as the issuer writes it (no trailing slash).

    Plain http only on a loopback address: anywhere else the keys that sign the tokens could
    be swapped on the way.
    """
    issuers = []
    for item in value.split(","):
        url = item.strip().rstrip("/")
        if not url:
            continue
        parts = urlsplit(url)
        loopback = _is_loopback(parts.hostname or "")
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and loopback)
        ):
            raise ValueError(
                "expected https URLs (or http on a loopback address) for "
                f"WHEELYARD_OIDC_ISSUERS, got {url!r}"
            )
        issuers.append(url)
    return tuple(issuers)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _patterns(value: str) -> tuple[str, ...]:
    # Matched against normalized names (PEP 503), so the patterns are normalized the same way.
    return tuple(
        re.sub(r"[-_.]+", "-", item.strip().lower()) for item in value.split(",") if item.strip()
    )


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")


def _duration(variable: str, value: str) -> int:
    """``7d``, ``12h``, ``30m``, ``45s``, ``2w`` or plain seconds; empty is 0 (off)."""
    text = value.strip().lower()
    if not text:
        return 0
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(
            f"expected a duration such as 7d, 12h, 30m or seconds for {variable}, got {value!r}"
        )
    return int(match[1]) * DURATION_UNITS[match[2] or "s"]


def _registration(value: str) -> bool | None:
    value = value.strip().lower()
    if not value:
        return None
    if value not in {"open", "closed"}:
        raise ValueError(f"expected open or closed for WHEELYARD_REGISTRATION, got {value!r}")
    return value == "open"


def _visibility(value: str) -> str:
    value = value.strip().lower() or "public"
    if value not in {"public", "private"}:
        raise ValueError(
            f"expected public or private for WHEELYARD_DEFAULT_VISIBILITY, got {value!r}"
        )
    return value


def _readme_images(value: str) -> str:
    value = value.strip().lower() or "proxy"
    if value not in {"proxy", "direct", "off"}:
        raise ValueError(
            f"expected proxy, direct or off for WHEELYARD_README_IMAGES, got {value!r}"
        )
    return value


def _hosts(value: str) -> tuple[str, ...]:
    return tuple(host.strip().lower() for host in value.split(",") if host.strip())


def _seconds(value: str) -> int:
    try:
        seconds = int(value.strip() or "0")
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise ValueError(f"expected a number of seconds, got {value!r}")
    return seconds


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value.strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise ValueError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def _count(env: Mapping[str, str], variable: str, default: str) -> int:
    value = env.get(variable, default)
    try:
        count = int(value.strip())
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"expected a whole number, 0 or more, for {variable}, got {value!r}")
    return count


_SIZE_UNITS = {
    "": 1,
    "k": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gib": 1024**3,
}


def _bytes(value: str, name: str) -> int:
    """A positive size: a number of bytes, or with a binary unit (``256MiB``, ``1g``)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-z]*)\s*", value.lower())
    if match is None or match.group(2) not in _SIZE_UNITS or int(match.group(1)) < 1:
        raise ValueError(
            f"expected a positive size in bytes (or KiB, MiB, GiB) for {name}, got {value!r}"
        )
    return int(match.group(1)) * _SIZE_UNITS[match.group(2)]


def _port(value: str) -> int:
    try:
        port = int(value.strip())
    except ValueError:
        raise ValueError(f"expected a port number, got {value!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"expected a port number, got {value!r}")
    return port


def _minutes(value: str) -> int:
    try:
        minutes = int(value.strip())
    except ValueError:
        raise ValueError(f"expected a number of minutes, got {value!r}") from None
    if minutes < 1:
        raise ValueError(f"expected a positive number of minutes, got {value!r}")
    return minutes


def _persistent_secret(var_dir: Path) -> str:
    """Return the secret stored under var_dir, creating it (mode 0600) on first use."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two workers race, one wins and the other reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
