"""Trusted publishing end to end: a CI job with no password or token uploads over HTTPS.

wheelyard runs as ``serve --certfile --keyfile`` with a certificate from a test CA; the
OIDC issuer and GitHub Actions' ID token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``) are a
real server on loopback (tests/helpers/oidc_issuer.py). ``uv publish --trusted-publishing
always`` does the whole exchange itself. twine mints by itself only for PyPI's own upload
URLs (its ``Resolver.is_pypi``), so for any other index the job does what the PyPA publish
action does: ask the audience, get the job's token (the ``id`` package, which twine
brings), exchange it, and give twine the minted token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.helpers.dists import Project, wheel
from tests.helpers.environment import postgres_url
from tests.helpers.install_clients import CLIENT_ENV, UV
from tests.helpers.live_server import LiveServer, run_server, wheelyard_cli
from tests.helpers.oidc_issuer import Issuer, github_claims, running_issuer
from tests.helpers.tls import make_certificates
from wheelyard.data.db_session import create_engine
from wheelyard.data.publisher_token import PublisherToken
from wheelyard.data.release_file import ReleaseFile

pytestmark = pytest.mark.clients


@dataclass(frozen=True)
class Site:
    server: LiveServer
    issuer: Issuer
    engine: sa.Engine

    @property
    def ca_file(self) -> Path:
        assert self.server.ca_file is not None
        return self.server.ca_file

    def files(self) -> dict[str, str | None]:
        """filename -> where it was published from, for every file the index holds."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(ReleaseFile.filename, ReleaseFile.published_from))
            return dict(rows.all())

    def minted(self) -> int:
        with self.engine.connect() as connection:
            count = connection.scalar(sa.select(sa.func.count()).select_from(PublisherToken))
            return int(count or 0)

    def job_env(self) -> dict[str, str]:
        """A GitHub Actions job's environment, trusting the test CA, and no credentials."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("UV_PUBLISH_", "TWINE_", "ACTIONS_", "GITHUB_"))
        }
        return {
            **env,
            **CLIENT_ENV,
            **self.issuer.actions_env(),
            "SSL_CERT_FILE": str(self.ca_file),
            "REQUESTS_CA_BUNDLE": str(self.ca_file),
        }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var_dir = tmp_path_factory.mktemp("tp")
    tls = make_certificates(var_dir / "tls")
    with (
        running_issuer() as issuer,
        run_server(
            var_dir / "server",
            postgres_url(),
            env={"WHEELYARD_OIDC_ISSUERS": issuer.url},
            # Two workers: a jti is accepted once across them (the database says so).
            args=["--workers", "2"],
            tls=tls,
        ) as server,
    ):
        for project, workflow in (("widgets", "release.yml"), ("gizmos", "publish.yml")):
            wheelyard_cli(
                server, "publisher", "add", project, "--github", "acme/widgets",
                "--workflow", workflow, "--issuer", issuer.url,
            )  # fmt: skip
        engine = create_engine(server.database_url)
        try:
            yield Site(server, issuer, engine)
        finally:
            engine.dispose()


def run(command: Sequence[str | Path], env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        [str(part) for part in command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def uv_publish(site: Site, dist: Path) -> tuple[int, str]:
    return run(
        [
            UV, "publish", "--trusted-publishing", "always",
            "--publish-url", site.server.url + "/legacy/", dist,
        ],
        site.job_env(),
    )  # fmt: skip


def test_the_server_speaks_https_with_the_test_certificate(site: Site) -> None:
    response = requests.get(site.server.url + "/_/oidc/audience", verify=site.ca_file, timeout=10)
    assert response.json() == {"audience": "wheelyard"}
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(site.server.url + "/robots.txt", timeout=10)  # the system's CAs only


def test_uv_publish_uploads_with_trusted_publishing(site: Site, tmp_path: Path) -> None:
    site.issuer.actions_claims = github_claims(workflow="release.yml")
    dist = wheel(Project("widgets", "1.0")).write_to(tmp_path)

    code, output = uv_publish(site, dist)

    assert code == 0, output
    assert site.files()[dist.name] == "acme/widgets by release.yml"
    page = requests.get(site.server.url + "/project/widgets/", verify=site.ca_file, timeout=10)
    assert "published from acme/widgets by release.yml" in page.text


def test_uv_publish_from_an_unknown_repository_is_refused(site: Site, tmp_path: Path) -> None:
    site.issuer.actions_claims = github_claims(repository="mallory/widgets")
    dist = wheel(Project("widgets", "2.0")).write_to(tmp_path)
    minted = site.minted()

    code, output = uv_publish(site, dist)

    assert code != 0
    assert "invalid-publisher" in output, output
    assert dist.name not in site.files()
    assert site.minted() == minted


def test_twine_uploads_with_a_token_minted_as_the_publish_action_mints_it(
    site: Site, tmp_path: Path
) -> None:
    site.issuer.actions_claims = github_claims(workflow="publish.yml")
    dist = wheel(Project("gizmos", "1.0")).write_to(tmp_path)
    env = site.job_env()
    audience = requests.get(
        site.server.url + "/_/oidc/audience", verify=site.ca_file, timeout=10
    ).json()["audience"]
    code, oidc_token = run([sys.executable, "-m", "id", audience], env)
    assert code == 0, oidc_token
    exchange = requests.post(
        site.server.url + "/_/oidc/mint-token",
        data=json.dumps({"token": oidc_token.strip()}),
        verify=site.ca_file,
        timeout=10,
    )
    assert exchange.status_code == 200, exchange.text

    code, output = run(
        [
            sys.executable, "-m", "twine", "upload", "--non-interactive",
            "--repository-url", site.server.url + "/legacy/", "--cert", site.ca_file,
            "-u", "__token__", "-p", exchange.json()["token"], "--disable-progress-bar", dist,
        ],
        env,
    )  # fmt: skip

    assert code == 0, output
    assert site.files()[dist.name] == "acme/widgets by publish.yml"


def test_one_jti_mints_once_when_requests_race_across_workers(site: Site) -> None:
    token = site.issuer.token(github_claims(workflow="release.yml"))
    minted = site.minted()

    def exchange(_: int) -> requests.Response:
        return requests.post(
            site.server.url + "/_/oidc/mint-token",
            json={"token": token},
            verify=site.ca_file,
            timeout=30,
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(exchange, range(8)))

    assert sorted(response.status_code for response in responses) == [200] + [422] * 7
    codes = {
        response.json()["errors"][0]["code"]
        for response in responses
        if response.status_code == 422
    }
    assert codes == {"invalid-reuse-token"}
    assert site.minted() == minted + 1
