"""The JSON stats API over HTTP, in pypistats.org's shape: /api/packages/<project>/<kind>."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.analytics.recorder import DownloadEvent, store_downloads
from wheelyard.storage.base import FileStorage

TODAY = clock.today()
# What pip 26.3 and uv 0.13.9 send (captured from the clients this suite installs with).
PIP = (
    'pip/26.3 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc",'
    '"version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":'
    '{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"26.3"},'
    '"openssl_version":"OpenSSL 3.0.19 27 Jan 2026","python":"3.11.7","rustc_version":'
    '"1.95.0","setuptools_version":"65.5.0","system":{"name":"Linux","release":"6.18.44-fc-v669"}}'
)
UV = (
    'uv/0.13.9 {"installer":{"name":"uv","version":"0.13.9","subcommand":["pip","install"]},'
    '"python":"3.13.1","implementation":{"name":"CPython","version":"3.13.1"},"distro":'
    '{"name":"macOS","version":"15.1","id":null,"libc":null},"system":{"name":"Darwin",'
    '"release":"24.1.0"},"cpu":"arm64","openssl_version":null,"setuptools_version":null,'
    '"rustc_version":null,"ci":null}'
)
BANDERSNATCH = "bandersnatch/6.5.0 (cpython 3.11.8-final0, Linux x86_64) (aiohttp 3.9.3)"
FREEBSD = 'pip/24.0 {"python":"2.7.18","system":{"name":"FreeBSD","release":"14.0"}}'


def day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def item(category: str, days_ago: int, downloads: int) -> dict[str, Any]:
    return {"category": category, "date": day(days_ago), "downloads": downloads}


@pytest.fixture
def project(make: Factory, db: Session) -> str:
    """ "Stats_Project": downloads today, 3 and 40 days ago, and one by a mirror."""
    package = make.package("Stats_Project", versions=("1.0", "2.0"))
    files = {release.version: release.files[0] for release in package.releases}

    def at(release_file: ReleaseFile, days_ago: int, agent: str | None) -> DownloadEvent:
        when = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(0, 0, 1))
        return DownloadEvent(
            package.id,
            release_file.release_id,
            release_file.id,
            "192.0.2.1",
            agent,
            when,
            release_file.release.version,
            release_file.packagetype,
        )

    store_downloads(
        db,
        [
            at(files["2.0"], 0, PIP),
            at(files["2.0"], 0, UV),
            at(files["2.0"], 0, BANDERSNATCH),
            at(files["1.0"], 3, PIP),
            at(files["1.0"], 3, FREEBSD),
            at(files["1.0"], 3, None),
            at(files["1.0"], 40, PIP),
        ],
    )
    db.commit()
    return package.id


def get(client: TestClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    return response.json()


def test_recent(client: TestClient, project: str) -> None:
    document = get(client, f"/api/packages/{project}/recent")
    assert document == {
        "data": {"last_day": 2, "last_month": 5, "last_week": 5},
        "package": "stats-project",
        "type": "recent_downloads",
    }
    # pypistats' key order, so byte-for-byte diffs against it stay quiet.
    assert list(document) == ["data", "package", "type"]
    assert list(document["data"]) == ["last_day", "last_month", "last_week"]
    for period, key in (("day", "last_day"), ("week", "last_week"), ("month", "last_month")):
        data = get(client, f"/api/packages/{project}/recent?period={period}")["data"]
        assert data == {key: document["data"][key]}


def test_overall_with_and_without_mirrors(client: TestClient, project: str) -> None:
    document = get(client, f"/api/packages/{project}/overall")
    assert document["type"] == "overall_downloads"
    assert document["package"] == "stats-project"
    assert document["data"] == [
        item("with_mirrors", 40, 1),
        item("with_mirrors", 3, 3),
        item("with_mirrors", 0, 3),
        item("without_mirrors", 40, 1),
        item("without_mirrors", 3, 3),
        item("without_mirrors", 0, 2),
    ]
    assert list(document["data"][0]) == ["category", "date", "downloads"]
    with_mirrors = get(client, f"/api/packages/{project}/overall?mirrors=true")["data"]
    assert with_mirrors == document["data"][:3]
    without = get(client, f"/api/packages/{project}/overall?mirrors=false")["data"]
    assert without == document["data"][3:]


def test_python_major_and_minor(client: TestClient, project: str) -> None:
    major = get(client, f"/api/packages/{project}/python_major")
    assert major["type"] == "python_major_downloads"
    assert major["data"] == [
        item("2", 3, 1),
        item("3", 40, 1),
        item("3", 3, 1),
        item("3", 0, 2),
        item("null", 3, 1),
    ]
    assert get(client, f"/api/packages/{project}/python_major?version=2")["data"] == [
        item("2", 3, 1)
    ]
    minor = get(client, f"/api/packages/{project}/python_minor")
    assert minor["type"] == "python_minor_downloads"
    assert minor["data"] == [
        item("2.7", 3, 1),
        item("3.11", 40, 1),
        item("3.11", 3, 1),
        item("3.11", 0, 1),
        item("3.13", 0, 1),
        item("null", 3, 1),
    ]
    only = get(client, f"/api/packages/{project}/python_minor?version=3.13")["data"]
    assert only == [item("3.13", 0, 1)]
    unknown = get(client, f"/api/packages/{project}/python_minor?version=null")["data"]
    assert unknown == [item("null", 3, 1)]


def test_system_as_pypistats_names_them(client: TestClient, project: str) -> None:
    document = get(client, f"/api/packages/{project}/system")
    assert document["type"] == "system_downloads"
    # FreeBSD is "other" to pypistats; the mirror's Linux is left out.
    assert document["data"] == [
        item("Darwin", 0, 1),
        item("Linux", 40, 1),
        item("Linux", 3, 1),
        item("Linux", 0, 1),
        item("null", 3, 1),
        item("other", 3, 1),
    ]
    assert get(client, f"/api/packages/{project}/system?os=linux")["data"] == [
        item("Linux", 40, 1),
        item("Linux", 3, 1),
        item("Linux", 0, 1),
    ]
    assert get(client, f"/api/packages/{project}/system?os=Other")["data"] == [item("other", 3, 1)]


def test_installer_and_version_series(client: TestClient, project: str) -> None:
    installers = get(client, f"/api/packages/{project}/installer")
    assert installers["type"] == "installer_downloads"
    assert installers["data"] == [
        item("other", 3, 1),
        item("pip", 40, 1),
        item("pip", 3, 2),
        item("pip", 0, 1),
        item("uv", 0, 1),
    ]
    with_mirrors = get(
        client, f"/api/packages/{project}/installer?mirrors=true&installer=bandersnatch"
    )
    assert with_mirrors["data"] == [item("bandersnatch", 0, 1)]
    versions = get(client, f"/api/packages/{project}/version?version=2.0")
    assert versions == {
        "data": [item("2.0", 0, 2)],
        "package": "stats-project",
        "type": "version_downloads",
    }


def test_old_days_fall_out_of_the_series(client: TestClient, make: Factory, db: Session) -> None:
    package = make.package("ancient")
    release_file = package.releases[0].files[0]
    long_ago = dt.datetime.combine(TODAY - dt.timedelta(days=200), dt.time())
    event = DownloadEvent("ancient", release_file.release_id, release_file.id, None, PIP, long_ago)
    store_downloads(db, [event])
    db.commit()
    assert get(client, "/api/packages/ancient/overall")["data"] == []
    assert get(client, "/api/packages/ancient/python_minor")["data"] == []


def test_a_project_without_downloads(client: TestClient, make: Factory, db: Session) -> None:
    make.package("untouched")
    db.commit()
    assert get(client, "/api/packages/untouched/recent")["data"] == {
        "last_day": 0,
        "last_month": 0,
        "last_week": 0,
    }
    for kind in ("overall", "python_major", "python_minor", "system", "installer", "version"):
        document = get(client, f"/api/packages/untouched/{kind}")
        assert document == {"data": [], "package": "untouched", "type": f"{kind}_downloads"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/packages/no-such-project/recent",
        "/api/packages/no-such-project/overall",
        "/api/packages/no-such-project/system",
        "/api/packages/-not-a-name-/python_minor",
    ],
)
def test_unknown_projects_are_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "no project named" in response.json()["message"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("recent?period=year", "period must be one of day, week, month"),
        ("overall?mirrors=sometimes", "mirrors must be true or false"),
        ("python_major?version=3.11", "version must look like"),
        ("python_minor?version=3", "version must look like"),
        ("python_minor?version=three", "version must look like"),
        ("system?os=beos", "os must be one of darwin, linux, windows, other, null"),
        ("installer?installer=npm", "installer must be one of pip, uv"),
        ("installer?mirrors=2", "mirrors must be true or false"),
        ("version?version=" + "9" * 101, "at most 100 characters"),
    ],
)
def test_bad_parameters_are_400_with_the_reason(
    client: TestClient, project: str, query: str, reason: str
) -> None:
    response = client.get(f"/api/packages/{project}/{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert reason in response.json()["message"]


def test_names_in_another_spelling_redirect_with_the_query(
    client: TestClient, project: str
) -> None:
    response = client.get(
        "/api/packages/Stats.Project/overall?mirrors=true", follow_redirects=False
    )
    assert response.status_code == 301
    assert response.headers["location"].endswith("/api/packages/stats-project/overall?mirrors=true")
    followed = client.get("/api/packages/STATS_project/recent?period=day")
    assert followed.status_code == 200
    assert followed.json()["data"] == {"last_day": 2}


def test_downloads_over_http_show_up_by_installer_python_and_system(
    client: TestClient, app: Starlette, make: Factory, db: Session
) -> None:
    """End to end: pip and uv fetch files; after a flush the API breaks them down."""
    storage: FileStorage = app.state.storage
    package = make.package("served-project", versions=())
    release = make.release(package, "1.0", with_file=False)
    dists = Project(name="served-project", version="1.0")
    wheel_file = make.stored_file(release, wheel(dists), storage)
    sdist_file = make.stored_file(release, sdist(dists), storage)
    db.commit()

    for release_file, agent in ((wheel_file, PIP), (wheel_file, UV), (sdist_file, PIP)):
        url = f"/packages/{release_file.storage_path}"
        response = client.get(url, headers={"User-Agent": agent})
        assert response.status_code == 200
    assert get(client, "/api/packages/served-project/recent")["data"]["last_day"] == 0

    assert app.state.downloads.flush() == 3

    base = "/api/packages/served-project"
    assert get(client, f"{base}/recent")["data"] == {
        "last_day": 3,
        "last_month": 3,
        "last_week": 3,
    }
    assert get(client, f"{base}/installer")["data"] == [item("pip", 0, 2), item("uv", 0, 1)]
    assert get(client, f"{base}/python_minor")["data"] == [item("3.11", 0, 2), item("3.13", 0, 1)]
    assert get(client, f"{base}/python_major")["data"] == [item("3", 0, 3)]
    assert get(client, f"{base}/system")["data"] == [item("Darwin", 0, 1), item("Linux", 0, 2)]
    assert get(client, f"{base}/overall?mirrors=false")["data"] == [item("without_mirrors", 0, 3)]
    # The JSON is what pypistats clients parse: plain objects, ints, ISO dates.
    raw = client.get(f"{base}/overall?mirrors=true").content
    assert json.loads(raw) == {
        "data": [item("with_mirrors", 0, 3)],
        "package": "served-project",
        "type": "overall_downloads",
    }
