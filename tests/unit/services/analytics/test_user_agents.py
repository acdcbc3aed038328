"""User-Agent parsing, on the strings real clients send."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wheelyard.services.analytics import user_agents
from wheelyard.services.analytics.user_agents import (
    INSTALLERS,
    MAX_FIELD,
    MAX_INPUT,
    ClientInfo,
    parse_user_agent,
    parse_user_agent_cached,
    python_minor,
)

# Captured from pip 26.3 and uv 0.13.9 on Debian 12 (what this suite's own clients send).
PIP_DEBIAN = (
    'pip/26.3 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc",'
    '"version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":'
    '{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"26.3"},'
    '"openssl_version":"OpenSSL 3.0.19 27 Jan 2026","python":"3.11.7","rustc_version":'
    '"1.95.0","setuptools_version":"65.5.0","system":{"name":"Linux","release":"6.18.44-fc-v669"}}'
)
UV_DEBIAN = (
    'uv/0.13.9 {"installer":{"name":"uv","version":"0.13.9","subcommand":["pip","install"]},'
    '"python":"3.11.7","implementation":{"name":"CPython","version":"3.11.7"},"distro":'
    '{"name":"Debian GNU/Linux","version":"12","id":"bookworm","libc":{"lib":"glibc",'
    '"version":"2.36"}},"system":{"name":"Linux","release":"6.18.44-fc-v669"},"cpu":"x86_64",'
    '"openssl_version":null,"setuptools_version":null,"rustc_version":null,"ci":null}'
)
PIP_MACOS_CI = (
    'pip/24.0 {"ci":true,"cpu":"arm64","distro":{"name":"macOS","version":"14.4.1"},'
    '"implementation":{"name":"CPython","version":"3.12.2"},"installer":{"name":"pip",'
    '"version":"24.0"},"openssl_version":"OpenSSL 3.0.13 30 Jan 2024","python":"3.12.2",'
    '"setuptools_version":"69.1.1","system":{"name":"Darwin","release":"23.4.0"}}'
)
PIP_WINDOWS = (
    'pip/23.3.2 {"ci":null,"cpu":"AMD64","implementation":{"name":"CPython","version":'
    '"3.10.11"},"installer":{"name":"pip","version":"23.3.2"},"openssl_version":"OpenSSL '
    '1.1.1t  7 Feb 2023","python":"3.10.11","setuptools_version":"65.5.0","system":'
    '{"name":"Windows","release":"10"}}'
)
PIP_PYPY = (
    'pip/23.2.1 {"ci":null,"cpu":"x86_64","distro":{"id":"jammy","libc":{"lib":"glibc",'
    '"version":"2.35"},"name":"Ubuntu","version":"22.04"},"implementation":{"name":"PyPy",'
    '"version":"7.3.13"},"installer":{"name":"pip","version":"23.2.1"},"openssl_version":'
    '"OpenSSL 3.0.2 15 Mar 2022","python":"3.10.13","setuptools_version":"65.5.0","system":'
    '{"name":"Linux","release":"5.15.0-91-generic"}}'
)
UV_MACOS = (
    'uv/0.1.22 {"installer":{"name":"uv","version":"0.1.22"},"python":"3.12.2",'
    '"implementation":{"name":"CPython","version":"3.12.2"},"distro":{"name":"macOS",'
    '"version":"14.4","id":null,"libc":null},"system":{"name":"Darwin","release":"23.2.0"},'
    '"cpu":"arm64","openssl_version":null,"setuptools_version":null,"rustc_version":null,'
    '"ci":null}'
)
HATCH_WINDOWS_CI = (
    'Hatch/1.15.0 {"ci":true,"cpu":"AMD64","implementation":{"name":"CPython","version":'
    '"3.12.0"},"installer":{"name":"hatch","version":"1.15.0"},"python":"3.12.0","system":'
    '{"name":"Windows","release":"2022Server"}} HTTPX/0.27.0'
)


def test_pip_on_debian() -> None:
    assert parse_user_agent(PIP_DEBIAN) == ClientInfo(
        installer="pip",
        installer_version="26.3",
        python="3.11.7",
        python_minor="3.11",
        implementation="CPython",
        implementation_version="3.11.7",
        system="Linux",
        system_release="6.18.44-fc-v669",
        distro="Debian GNU/Linux",
        distro_version="12",
        cpu="x86_64",
        ci=False,
        is_mirror=False,
        agent="pip",
    )


def test_uv_on_debian() -> None:
    assert parse_user_agent(UV_DEBIAN) == ClientInfo(
        installer="uv",
        installer_version="0.13.9",
        python="3.11.7",
        python_minor="3.11",
        implementation="CPython",
        implementation_version="3.11.7",
        system="Linux",
        system_release="6.18.44-fc-v669",
        distro="Debian GNU/Linux",
        distro_version="12",
        cpu="x86_64",
        agent="uv",
    )


def test_the_brief_pip_example() -> None:
    client = parse_user_agent(
        'pip/24.0 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc",'
        '"version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":'
        '{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"24.0"},'
        '"openssl_version":"OpenSSL 3.0.11 19 Sep 2023","python":"3.11.7","rustc_version":'
        '"1.75.0","setuptools_version":"69.0.3","system":{"name":"Linux","release":'
        '"6.1.0-17-amd64"}}'
    )
    assert (client.installer, client.installer_version, client.python_minor) == (
        "pip",
        "24.0",
        "3.11",
    )
    assert (client.system, client.system_release) == ("Linux", "6.1.0-17-amd64")


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            PIP_MACOS_CI,
            {
                "installer": "pip",
                "python_minor": "3.12",
                "system": "Darwin",
                "distro": "macOS",
                "cpu": "arm64",
                "ci": True,
            },
        ),
        (
            PIP_WINDOWS,
            {"installer": "pip", "python_minor": "3.10", "system": "Windows", "distro": None},
        ),
        (
            # PyPy's own version is 7.3; the Python it implements is 3.10.
            PIP_PYPY,
            {
                "python": "3.10.13",
                "python_minor": "3.10",
                "implementation": "PyPy",
                "implementation_version": "7.3.13",
            },
        ),
        (
            UV_MACOS,
            {"installer": "uv", "installer_version": "0.1.22", "system": "Darwin", "ci": False},
        ),
        (
            HATCH_WINDOWS_CI,
            {"installer": "other", "agent": "Hatch", "python_minor": "3.12", "ci": True},
        ),
        (
            "pip/1.5.6 CPython/2.7.6 Linux/3.13.0-24-generic",
            {
                "installer": "pip",
                "installer_version": "1.5.6",
                "python_minor": "2.7",
                "system": "Linux",
                "system_release": "3.13.0-24-generic",
            },
        ),
        (
            "poetry/1.8.2 CPython/3.11.7 Linux/6.5.0-1016-azure",
            {
                "installer": "poetry",
                "installer_version": "1.8.2",
                "python": "3.11.7",
                "implementation": "CPython",
                "system": "Linux",
                "system_release": "6.5.0-1016-azure",
            },
        ),
        (
            "poetry/1.1.11 CPython/3.9.2 Linux/5.10.16.3-microsoft-standard-WSL2",
            {"installer": "poetry", "python_minor": "3.9", "system": "Linux"},
        ),
        (
            "poetry/1.7.1 PyPy/3.10.13 Darwin/23.2.0",
            {"installer": "poetry", "implementation": "PyPy", "python": None, "system": "Darwin"},
        ),
        (
            "pdm/2.12.3 CPython/3.11.7 Linux/6.5.0-15-generic",
            {"installer": "pdm", "installer_version": "2.12.3", "python_minor": "3.11"},
        ),
        (
            "pdm/2.1.6.dev32+g1e5dc62 CPython/3.11.0",
            {"installer": "pdm", "installer_version": "2.1.6.dev32+g1e5dc62", "system": None},
        ),
        (
            "twine/5.0.0 CPython/3.12.2",
            {"installer": "twine", "installer_version": "5.0.0", "python_minor": "3.12"},
        ),
        (
            "twine/3.8.0 pkginfo/1.9.6 readme-renderer/34.0 requests/2.27.1 "
            "requests-toolbelt/0.10.1 urllib3/1.26.15 tqdm/4.64.1 importlib-metadata/4.8.3 "
            "keyring/23.4.1 rfc3986/1.5.0 colorama/0.4.5 CPython/3.9.16",
            {"installer": "twine", "installer_version": "3.8.0", "python": "3.9.16"},
        ),
        (
            "bandersnatch/6.5.0 (cpython 3.11.8-final0, Linux x86_64) (aiohttp 3.9.3)",
            {
                "installer": "bandersnatch",
                "installer_version": "6.5.0",
                "is_mirror": True,
                "python_minor": "3.11",
                "implementation": "CPython",
                "system": "Linux",
                "cpu": "x86_64",
            },
        ),
        (
            "devpi-server/6.10.0 (py3.11.4; linux)",
            {
                "installer": "devpi",
                "installer_version": "6.10.0",
                "is_mirror": True,
                "python_minor": "3.11",
                "system": "Linux",
            },
        ),
        ("z3c.pypimirror/1.0.16", {"installer": "other", "is_mirror": True}),
        ("Artifactory/7.77.5", {"installer": "other", "is_mirror": True, "agent": "Artifactory"}),
        (
            "Nexus/3.64.0-04 (OSS; Linux; 5.15.0-91-generic; amd64; 17.0.9)",
            {"installer": "other", "is_mirror": True},
        ),
        ("pep381client/1.5", {"installer": "other", "is_mirror": True}),
        ("curl/8.5.0", {"installer": "curl", "installer_version": "8.5.0", "is_mirror": False}),
        ("Wget/1.21.4", {"installer": "curl", "installer_version": "1.21.4", "agent": "Wget"}),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/122.0.0.0 Safari/537.36",
            {"installer": "browser", "installer_version": None, "system": "Windows"},
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
            {"installer": "browser", "system": "Linux"},
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            {"installer": "browser", "system": "Darwin"},
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            {"installer": "browser", "system": "iOS"},
        ),
        (
            "Python-urllib/3.11",
            {"installer": "other", "installer_version": None, "python_minor": "3.11"},
        ),
        ("Python-urllib/2.7 setuptools/0.9.8", {"installer": "other", "python_minor": "2.7"}),
        ("setuptools/69.0.3 Python-urllib/3.11", {"installer": "other", "python_minor": "3.11"}),
        (
            "python-requests/2.31.0",
            {"installer": "other", "installer_version": "2.31.0", "agent": "python-requests"},
        ),
        ("pipenv/2023.12.1", {"installer": "pip", "agent": "pipenv"}),
        ("Go-http-client/1.1", {"installer": "other", "python": None, "system": None}),
    ],
)
def test_real_user_agents(user_agent: str, expected: dict[str, object]) -> None:
    client = parse_user_agent(user_agent)
    assert {name: getattr(client, name) for name in expected} == expected
    assert client.installer in INSTALLERS


def test_no_user_agent_is_unknown() -> None:
    assert parse_user_agent(None) == ClientInfo(installer="other")
    assert parse_user_agent("") == ClientInfo(installer="other")
    assert parse_user_agent("   ") == ClientInfo(installer="other")


@pytest.mark.parametrize(
    "user_agent",
    [
        "pip/24.0 {not json",
        "pip/24.0 {}",
        "pip/24.0 []",
        'pip/24.0 {"python": 3.11, "system": "Linux", "implementation": ["CPython"]}',
        'pip/24.0 {"installer": null, "distro": 12, "cpu": {"x": 1}, "ci": "yes"}',
        'uv/0.4.0 {"python": "3.12.1\\u0000\\u0007"}',
        'pip/24.0 {"a":' + "[" * 2000 + "]" * 2000 + "}",
        "pip/24.0 " + "{" * 100_000,
        "pip/",
        "/",
        "\x00\x01\x02",
    ],
)
def test_malformed_agents_never_raise(user_agent: str) -> None:
    client = parse_user_agent(user_agent)
    assert client.installer in INSTALLERS
    assert not client.ci


def test_wrong_types_in_the_json_are_ignored_field_by_field() -> None:
    client = parse_user_agent(
        'pip/24.0 {"python": 3.11, "implementation": {"name": "CPython", "version": 7},'
        ' "system": {"name": "Linux", "release": ["6.1"]}, "cpu": "x86_64", "ci": "true"}'
    )
    assert client == ClientInfo(
        installer="pip",
        installer_version="24.0",
        implementation="CPython",
        system="Linux",
        cpu="x86_64",
        agent="pip",
    )


def test_values_are_cut_short_and_control_characters_refused() -> None:
    client = parse_user_agent(
        json.dumps({"cpu": "x" * 1000, "distro": {"name": "evil\nline"}}).join(["pip/24.0 ", ""])
    )
    assert client.cpu == "x" * MAX_FIELD
    assert client.distro is None
    # Past MAX_INPUT the header is cut, so its JSON no longer parses: nothing but the product.
    huge = parse_user_agent(json.dumps({"cpu": "x" * MAX_INPUT}).join(["pip/24.0 ", ""]))
    assert (huge.installer, huge.cpu) == ("pip", None)


def test_systems_outside_the_known_ones_count_as_other() -> None:
    def system(name: str) -> ClientInfo:
        return parse_user_agent(json.dumps({"system": {"name": name}}).join(["pip/24.0 ", ""]))

    assert system("Linux").system_category == "Linux"
    assert system("FreeBSD").system_category == "FreeBSD"
    haiku = system("Haiku")
    assert (haiku.system, haiku.system_category) == ("Haiku", "other")
    assert parse_user_agent("curl/8.5.0").system_category is None


def test_python_minor_and_major() -> None:
    assert python_minor("3.11.7") == "3.11"
    assert python_minor("3.13.0rc1") == "3.13"
    assert python_minor("2.7") == "2.7"
    assert python_minor("311") is None
    assert python_minor("3.123") is None
    assert python_minor(None) is None
    assert parse_user_agent(PIP_DEBIAN).python_major == "3"
    assert parse_user_agent("curl/8.5.0").python_major is None


def test_the_cached_parser_answers_the_same() -> None:
    assert parse_user_agent_cached(UV_DEBIAN) == parse_user_agent(UV_DEBIAN)
    assert parse_user_agent_cached(UV_DEBIAN) is parse_user_agent_cached(UV_DEBIAN)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(st.text(max_size=300))
def test_any_text_parses_into_bounded_categories(user_agent: str) -> None:
    client = parse_user_agent(user_agent)
    assert client.installer in INSTALLERS
    assert client.python_minor is None or len(client.python_minor) <= 5
    for value in dataclasses.astuple(client):
        assert not isinstance(value, str) or (len(value) <= 128 and value.isprintable())


@settings(deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["python", "system", "name", "release", "distro", "cpu", "ci"]),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_any_json_payload_parses(payload: object) -> None:
    client = parse_user_agent("uv/0.4.0 " + json.dumps(payload))
    assert client.installer == "uv"


def test_the_cache_is_keyed_on_what_is_parsed_not_the_whole_header() -> None:
    padded = UV_DEBIAN + " " + "x" * user_agents.MAX_INPUT
    first = parse_user_agent_cached(padded + "a")
    hits = user_agents._remembered.cache_info().hits
    # Another agent differing only past what the parser reads: the same entry.
    assert parse_user_agent_cached(padded + "b") is first
    assert user_agents._remembered.cache_info().hits == hits + 1
