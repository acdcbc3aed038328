"""Settings read from the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from wheelyard.config import Settings


def test_defaults_keep_everything_under_var(tmp_path: Path) -> None:
    settings = Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/wheelyard.db"
    assert settings.storage_path == tmp_path / "files"
    assert settings.storage_url is None
    assert settings.presigned_download_seconds == 0


def test_object_storage_and_presigned_downloads(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "WHEELYARD_VAR_DIR": str(tmp_path),
            "WHEELYARD_STORAGE_URL": "s3://wheels/prefix",
            "WHEELYARD_PRESIGNED_DOWNLOADS": "600",
        }
    )
    assert settings.storage_url == "s3://wheels/prefix"
    assert settings.presigned_download_seconds == 600


@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_a_bad_presign_duration_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="number of seconds"):
        Settings.from_env(
            {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_PRESIGNED_DOWNLOADS": value}
        )


def test_allowed_hosts_default_to_the_machine_and_the_public_url(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_PUBLIC_URL": "https://PyPI.example.org/"}
    )
    assert settings.public_url == "https://PyPI.example.org"
    assert settings.permitted_hosts() == {"localhost", "127.0.0.1", "::1", "pypi.example.org"}


def test_allowed_hosts_listed_replace_the_local_names(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_ALLOWED_HOSTS": " index.corp , *.Corp "}
    )
    assert settings.permitted_hosts() == {"index.corp", "*.corp"}


@pytest.mark.parametrize("value", ["pypi.example.org", "ftp://pypi.example.org", "https://"])
def test_a_public_url_must_be_an_http_url(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="WHEELYARD_PUBLIC_URL"):
        Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_PUBLIC_URL": value})


def test_no_upstream_by_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path)})
    assert settings.upstream_urls == ()
    assert settings.upstream_ttl == 600
    assert settings.upstream_block == ()
    assert settings.upstream_min_age == 0
    assert (settings.upstream_allow, settings.upstream_deny) == ((), ())


def test_upstreams_in_order_with_credentials_and_block_patterns(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "WHEELYARD_VAR_DIR": str(tmp_path),
            "WHEELYARD_UPSTREAM_URL": "https://u:p@one.example/simple, http://two.example/s/",
            "WHEELYARD_UPSTREAM_TTL": "30",
            "WHEELYARD_UPSTREAM_TIMEOUT": "2.5",
            "WHEELYARD_UPSTREAM_BLOCK": "Acme-*, internal_lib",
        }
    )
    assert settings.upstream_urls == ("https://u:p@one.example/simple/", "http://two.example/s/")
    assert settings.upstream_ttl == 30
    assert settings.upstream_timeout == 2.5
    assert settings.upstream_block == ("acme-*", "internal-lib")


@pytest.mark.parametrize("value", ["ftp://x.example/simple/", "not a url", "https:///simple/"])
def test_a_bad_upstream_url_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="WHEELYARD_UPSTREAM_URL"):
        Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_UPSTREAM_URL": value})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7d", 604800), ("12h", 43200), ("30m", 1800), ("45s", 45), ("90", 90), ("2w", 1209600)],
)
def test_the_upstream_min_age_takes_units(tmp_path: Path, value: str, seconds: int) -> None:
    env = {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_UPSTREAM_MIN_AGE": value}
    assert Settings.from_env(env).upstream_min_age == seconds


@pytest.mark.parametrize("value", ["7 days", "-1d", "1.5h", "d"])
def test_a_bad_upstream_min_age_is_refused_with_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="WHEELYARD_UPSTREAM_MIN_AGE"):
        Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_UPSTREAM_MIN_AGE": value})


def test_upstream_allow_and_deny_patterns_are_normalized(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "WHEELYARD_VAR_DIR": str(tmp_path),
            "WHEELYARD_UPSTREAM_ALLOW": "Django*, requests",
            "WHEELYARD_UPSTREAM_DENY": "django_evil*",
        }
    )
    assert settings.upstream_allow == ("django*", "requests")
    assert settings.upstream_deny == ("django-evil*",)


def test_upload_limits_default_to_60_files_a_minute_and_20_projects_an_hour(
    tmp_path: Path,
) -> None:
    defaults = Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path)})
    assert (defaults.upload_files_per_minute, defaults.new_projects_per_hour) == (60, 20)
    unlimited = Settings.from_env(
        {
            "WHEELYARD_VAR_DIR": str(tmp_path),
            "WHEELYARD_UPLOAD_FILES_PER_MINUTE": "0",
            "WHEELYARD_NEW_PROJECTS_PER_HOUR": "5",
        }
    )
    assert (unlimited.upload_files_per_minute, unlimited.new_projects_per_hour) == (0, 5)


@pytest.mark.parametrize(
    "name", ["WHEELYARD_UPLOAD_FILES_PER_MINUTE", "WHEELYARD_NEW_PROJECTS_PER_HOUR"]
)
@pytest.mark.parametrize("value", ["many", "-1", "2.5"])
def test_a_bad_upload_limit_is_refused_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path), name: value})


def test_old_secret_keys_are_listed_newest_first(tmp_path: Path) -> None:
    env = {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_SECRET_KEY": "now"}
    assert Settings.from_env(env).old_secret_keys == ()
    env["WHEELYARD_OLD_SECRET_KEYS"] = " before , long-ago,,"
    assert Settings.from_env(env).old_secret_keys == ("before", "long-ago")


def test_a_generated_secret_key_lives_in_a_private_var_directory(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    Settings.from_env({"WHEELYARD_VAR_DIR": str(var_dir)})
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((var_dir / "secret_key").stat().st_mode) == 0o600


def test_cache_bound_metrics_token_and_body_idle_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path)})
    assert settings.page_cache_bytes == 256 * 1024 * 1024
    assert settings.metrics_token is None
    assert settings.body_idle_seconds == 30.0
    assert settings.body_min_rate == 500
    assert settings.site_root is None


@pytest.mark.parametrize(
    ("value", "size"), [("1000", 1000), ("64KiB", 65536), ("256mib", 256 << 20), ("1 G", 1 << 30)]
)
def test_the_page_cache_bound_takes_bytes_or_binary_units(
    tmp_path: Path, value: str, size: int
) -> None:
    settings = Settings.from_env(
        {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_PAGE_CACHE_BYTES": value}
    )
    assert settings.page_cache_bytes == size


@pytest.mark.parametrize("value", ["", "0", "-5", "lots", "12MB", "1.5G"])
def test_a_bad_page_cache_bound_is_refused_by_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="WHEELYARD_PAGE_CACHE_BYTES"):
        Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_PAGE_CACHE_BYTES": value})


def test_metrics_token_body_idle_and_site_root_from_env(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "WHEELYARD_VAR_DIR": str(tmp_path),
            "WHEELYARD_METRICS_TOKEN": " s3cret ",
            "WHEELYARD_BODY_IDLE_SECONDS": "2.5",
            "WHEELYARD_BODY_MIN_RATE": "0",
            "WHEELYARD_PUBLIC_URL": "https://pypi.example.org/",
        }
    )
    assert settings.metrics_token == "s3cret"
    assert settings.body_idle_seconds == 2.5
    assert settings.body_min_rate == 0
    assert settings.site_root == "https://pypi.example.org/"


@pytest.mark.parametrize("value", ["0", "-1", "never"])
def test_a_bad_body_idle_time_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="seconds"):
        Settings.from_env(
            {"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_BODY_IDLE_SECONDS": value}
        )


@pytest.mark.parametrize("value", ["-1", "fast", "1.5"])
def test_a_bad_body_rate_is_refused_by_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="WHEELYARD_BODY_MIN_RATE"):
        Settings.from_env({"WHEELYARD_VAR_DIR": str(tmp_path), "WHEELYARD_BODY_MIN_RATE": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("https://git.acme.test/, http://127.0.0.1:8080", ("https://git.acme.test", "http://127.0.0.1:8080")),
        ("http://[::1]:9000", ("http://[::1]:9000",)),
        ("http://localhost:9000", ("http://localhost:9000",)),
    ],
)  # fmt: skip
def test_oidc_issuers(value: str, expected: tuple[str, ...]) -> None:
    settings = Settings.from_env({"WHEELYARD_OIDC_ISSUERS": value, "WHEELYARD_SECRET_KEY": "k"})
    assert settings.oidc_issuers == expected


@pytest.mark.parametrize(
    "value", ["http://ci.acme.test", "http://10.0.0.1", "ftp://x", "git.acme.test"]
)
def test_oidc_issuers_over_plain_http_only_on_loopback(value: str) -> None:
    with pytest.raises(ValueError, match="WHEELYARD_OIDC_ISSUERS"):
        Settings.from_env({"WHEELYARD_OIDC_ISSUERS": value, "WHEELYARD_SECRET_KEY": "k"})


def test_trusted_publishing_settings() -> None:
    default = Settings.from_env({"WHEELYARD_SECRET_KEY": "k"})
    assert (default.trusted_publishing, default.audience) == (True, "wheelyard")
    chosen = Settings.from_env(
        {
            "WHEELYARD_SECRET_KEY": "k",
            "WHEELYARD_TRUSTED_PUBLISHING": "0",
            "WHEELYARD_OIDC_AUDIENCE": "pypi.acme.test",
        }
    )
    assert (chosen.trusted_publishing, chosen.audience) == (False, "pypi.acme.test")
