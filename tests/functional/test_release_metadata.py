"""Each release keeps its own metadata: two versions uploaded by twine, with different
READMEs, licenses, people and URLs, each shown on its own page and in its own JSON document,
and the project's page and document showing the latest."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.install_clients import CLIENT_ENV
from tests.helpers.live_server import LiveServer, wheelyard_cli
from tests.helpers.passwords import PASSWORD

pytestmark = pytest.mark.clients

OLD = Project(
    "per-release",
    "1.0",
    summary="The first summary",
    description="Old README\n==========\n\nThe *first* text.\n",
    description_content_type="text/x-rst",
    classifiers=["Framework :: Flask"],
    extra_headers=[
        "License: BSD",
        "Maintainer: Old Keeper",
        "Maintainer-email: old@example.com",
        "Keywords: first,old",
        "Project-URL: Source, https://one.example/src",
        "Project-URL: Issues, https://one.example/issues",
    ],
)
NEW = Project(
    "per-release",
    "2.0",
    summary="The second summary",
    description="# New README\n\nThe **second** text.\n",
    description_content_type="text/markdown",
    classifiers=["Framework :: Django"],
    metadata_version="2.4",
    license_expression="Apache-2.0",
    requires_dist=["requests>=2", "rich; extra == 'pretty'"],
    requires_python=">=3.10",
    extra_headers=[
        "License-File: LICENSE",
        "Provides-Extra: pretty",
        "Home-page: https://two.example/",
        "Project-URL: Documentation, https://two.example/docs",
        "Project-URL: Changelog, https://two.example/changes",
        "Project-URL: Funding, https://two.example/fund",
        "Project-URL: Sneaky, javascript:alert(1)",
    ],
    modules={"per_release/__init__.py": "", "per_release-2.0.dist-info/licenses/LICENSE": "x"},
)


def _twine(server: LiveServer, *files: Path) -> tuple[int, str]:
    command: Sequence[str | Path] = [
        sys.executable, "-m", "twine", "upload", "--repository-url", server.url + "/legacy/",
        "-u", "ada@example.com", "-p", PASSWORD, "--disable-progress-bar", *files,
    ]  # fmt: skip
    result = subprocess.run(
        [str(part) for part in command],
        env={**os.environ, **CLIENT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def server(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """1.0 as an sdist only (no METADATA is stored beside it), then 2.0 as a wheel."""
    wheelyard_cli(
        live_server, "user", "create", "--name", "Ada", "--email", "ada@example.com",
        "--password", PASSWORD,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("per-release")
    code, output = _twine(live_server, sdist(OLD).write_to(folder))
    assert code == 0, output
    code, output = _twine(live_server, wheel(NEW).write_to(folder))
    assert code == 0, output
    return live_server


def _get(server: LiveServer, path: str) -> requests.Response:
    response = requests.get(server.url + path, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response


def test_each_release_page_shows_its_own_metadata(server: LiveServer) -> None:
    old = _get(server, "/project/per-release/1.0/").text
    new = _get(server, "/project/per-release/2.0/").text

    assert "The first summary" in old and "The second summary" not in old
    assert "<em>first</em>" in old and "second" not in old.split('id="history"')[0]
    assert "BSD" in old and "Apache-2.0" not in old
    assert "Old Keeper" in old and 'href="mailto:old@example.com"' in old
    assert 'href="https://one.example/src"' in old and "two.example" not in old
    assert "Framework :: Flask" in old and "Framework :: Django" not in old
    assert ">first</a>" in old and ">old</a>" in old

    assert "The second summary" in new and "The first summary" not in new
    assert "<strong>second</strong>" in new and "Old README" not in new
    assert "Apache-2.0" in new and "Old Keeper" not in new
    for link in ("https://two.example/", "https://two.example/docs", "https://two.example/fund"):
        assert f'href="{link}"' in new
    assert "<span>Changelog</span></a>" in new
    assert "javascript:" not in new
    assert "Python &gt;=3.10" in new and "pretty" in new
    assert "LICENSE" in new


def test_the_project_page_shows_the_latest_release(server: LiveServer) -> None:
    page = _get(server, "/project/per-release/").text
    assert "The second summary" in page and "<strong>second</strong>" in page
    assert "Old README" not in page


def test_each_release_document_has_its_own_info(server: LiveServer) -> None:
    old = _get(server, "/pypi/per-release/1.0/json").json()["info"]
    new = _get(server, "/pypi/per-release/2.0/json").json()["info"]
    project = _get(server, "/pypi/per-release/json").json()

    assert old["summary"] == "The first summary"
    assert old["description"].startswith("Old README")
    assert old["description_content_type"] == "text/x-rst"
    assert old["license"] == "BSD"
    assert old["license_expression"] is None
    assert (old["maintainer"], old["maintainer_email"]) == ("Old Keeper", "old@example.com")
    assert old["keywords"] == "first,old"
    assert old["classifiers"] == ["Framework :: Flask"]
    assert old["project_urls"] == {
        "Source": "https://one.example/src",
        "Issues": "https://one.example/issues",
    }
    assert old["home_page"] is None and old["requires_dist"] is None

    assert new["summary"] == "The second summary"
    assert new["description"].startswith("# New README")
    assert new["license"] is None  # the License field only; 2.0 has an expression instead
    assert new["license_expression"] == "Apache-2.0"
    assert new["license_files"] == ["LICENSE"]
    assert new["home_page"] == "https://two.example/"
    assert new["docs_url"] is None
    assert new["project_urls"] == {
        "Homepage": "https://two.example/",
        "Documentation": "https://two.example/docs",
        "Changelog": "https://two.example/changes",
        "Funding": "https://two.example/fund",
    }
    assert new["requires_dist"] == ["requests>=2", "rich; extra == 'pretty'"]
    assert new["provides_extra"] == ["pretty"]
    assert new["requires_python"] == ">=3.10"

    assert project["info"] == {**new, "release_url": project["info"]["release_url"]}
    assert project["info"]["version"] == "2.0"
    assert project["ownership"] == {
        "organization": None,
        "roles": [{"role": "Owner", "user": "Ada"}],
    }
    [old_sdist] = project["releases"]["1.0"]
    [new_wheel] = project["releases"]["2.0"]
    assert old_sdist["core-metadata"] is False
    assert set(new_wheel["core-metadata"]) == {"sha256"}
    metadata = requests.get(server.url + new_wheel["url"] + ".metadata", timeout=30).content
    assert hashlib.sha256(metadata).hexdigest() == new_wheel["core-metadata"]["sha256"]
    assert b"License-Expression: Apache-2.0" in metadata
