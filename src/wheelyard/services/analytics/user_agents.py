"""What a download's User-Agent tells about the client: installer, Python, system, mirror.

pip (>= 6) and uv send linehaul's format, ``name/version {json}``; every other client sends
plain product tokens (``poetry/1.8.2 CPython/3.11.7 Linux/6.5.0``). The header is whatever
the client chose to send, and the parsed values become rollup categories, so the parser
never raises and keeps only short, printable values, with the categories that the rollups
group by drawn from small fixed sets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

# The installer categories downloads are counted under; every client maps to one of them.
INSTALLERS = (
    "pip",
    "uv",
    "poetry",
    "pdm",
    "twine",
    "bandersnatch",
    "devpi",
    "browser",
    "curl",
    "other",
)
# Systems kept as their own category; any other reported system counts as "other".
KNOWN_SYSTEMS = frozenset(
    {
        "Linux",
        "Darwin",
        "Windows",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "DragonFly",
        "SunOS",
        "AIX",
        "Android",
        "iOS",
        "Emscripten",
    }
)
OTHER_SYSTEM = "other"

# Longer headers are cut before parsing: no real client sends more, and it bounds the work
# (and json's recursion) a hostile header can cause.
MAX_INPUT = 4096
MAX_FIELD = 64
MAX_RELEASE = 128

# Product names (lower case) of the clients that copy the index rather than install from it.
# linehaul and pypistats discount bandersnatch, z3c.pypimirror, Artifactory and devpi;
# Nexus and pep381client are mirrors by the same measure.
MIRROR_PRODUCTS = frozenset(
    {
        "bandersnatch",
        "devpi-server",
        "devpi",
        "z3c.pypimirror",
        "artifactory",
        "nexus",
        "pep381client",
        "pep381client-proxy",
    }
)
# Product names that map to an installer category other than their own name.
PRODUCT_INSTALLERS = {
    "pip": "pip",
    # pipenv installs through pip; a pipenv token means pip did (or will do) the fetching.
    "pipenv": "pip",
    "uv": "uv",
    "poetry": "poetry",
    "pdm": "pdm",
    "twine": "twine",
    "bandersnatch": "bandersnatch",
    "devpi-server": "devpi",
    "devpi": "devpi",
    "curl": "curl",
    # Other command-line downloaders: a person or a script fetching one URL, as with curl.
    "wget": "curl",
    "aria2": "curl",
    "libfetch": "curl",
    "httpie": "curl",
}
BROWSER_PRODUCTS = frozenset({"mozilla", "opera", "safari", "firefox", "chrome", "links", "lynx"})
# Clients whose JSON payload follows linehaul's schema.
LINEHAUL_PRODUCTS = frozenset({"pip", "uv", "hatch"})
# sys.platform spellings (devpi reports those) as platform.system() spells them.
PLATFORM_SYSTEMS = {
    "linux": "Linux",
    "linux2": "Linux",
    "darwin": "Darwin",
    "win32": "Windows",
    "cygwin": "Windows",
    "freebsd": "FreeBSD",
    "openbsd": "OpenBSD",
    "netbsd": "NetBSD",
    "sunos5": "SunOS",
    "aix": "AIX",
    "android": "Android",
    "ios": "iOS",
    "emscripten": "Emscripten",
}

_PYTHON_MINOR = re.compile(r"(\d)\.(\d{1,2})(?!\d)")
_IMPLEMENTATIONS = {
    "cpython": "CPython",
    "pypy": "PyPy",
    "graalpy": "GraalPy",
    "jython": "Jython",
    "ironpython": "IronPython",
}
# "(cpython 3.11.8-final0, Linux x86_64)" — bandersnatch's description of itself.
_BANDERSNATCH = re.compile(r"\((\w+) (\d+\.\d+\.\d+)[^,)]*, (\S+) ([^)\s]+)\)")
# "(py3.11.4; linux)" — devpi-server's.
_DEVPI = re.compile(r"\(py(\d+\.\d+(?:\.\d+)?)[^;)]*; ([^)\s]+)\)")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The client behind one download, as far as its User-Agent says; None where it does not."""

    installer: str = "other"  # one of INSTALLERS
    installer_version: str | None = None
    python: str | None = None  # the full Python version, "3.11.7"
    python_minor: str | None = None  # "3.11"
    implementation: str | None = None  # "CPython", "PyPy"
    implementation_version: str | None = None
    system: str | None = None  # as platform.system() names it: "Linux", "Darwin", "Windows"
    system_release: str | None = None
    distro: str | None = None
    distro_version: str | None = None
    cpu: str | None = None
    ci: bool = False
    is_mirror: bool = False
    # The product the client named itself, "Artifactory" or "python-requests": what "other"
    # was, for anyone reading the raw rows.
    agent: str | None = None

    @property
    def python_major(self) -> str | None:
        return self.python_minor.split(".", 1)[0] if self.python_minor else None

    @property
    def system_category(self) -> str | None:
        """The system as the rollups count it: a known name, "other", or None if unsaid."""
        if self.system is None:
            return None
        return self.system if self.system in KNOWN_SYSTEMS else OTHER_SYSTEM


UNKNOWN = ClientInfo()


def parse_user_agent(user_agent: str | None) -> ClientInfo:
    """Everything ``user_agent`` says about its client. Never raises, whatever the input."""
    if not user_agent or not isinstance(user_agent, str):
        return UNKNOWN
    try:
        return _parse(user_agent.strip()[:MAX_INPUT])
    except Exception:  # a parser bug must not cost a download its row
        return UNKNOWN


# Workers see few distinct agents (a handful of pip and uv builds per machine image), so a
# cache turns parsing into a dict lookup for nearly every download.
_remembered: Callable[[str | None], ClientInfo] = lru_cache(maxsize=4096)(parse_user_agent)


def parse_user_agent_cached(user_agent: str | None) -> ClientInfo:
    """``parse_user_agent``, remembered under the part of the agent it reads (MAX_INPUT
    characters), not the whole header a client sent: the cache holds 4096 x 4 KiB at most."""
    if isinstance(user_agent, str) and len(user_agent) > MAX_INPUT:
        user_agent = user_agent.strip()[:MAX_INPUT]
    return _remembered(user_agent)


def python_minor(version: str | None) -> str | None:
    """ "3.11" of "3.11.7" (or of "3.11"), None for anything that is not a Python version."""
    if not version:
        return None
    match = _PYTHON_MINOR.match(version)
    return f"{match[1]}.{match[2]}" if match else None


def _parse(user_agent: str) -> ClientInfo:
    product, _, rest = user_agent.partition(" ")
    name, _, version = product.partition("/")
    key = name.lower()
    info = ClientInfo(
        installer=PRODUCT_INSTALLERS.get(key, "other"),
        installer_version=_text(version),
        is_mirror=key in MIRROR_PRODUCTS,
        agent=_text(name),
    )
    if key in BROWSER_PRODUCTS:
        return _browser(info, user_agent)
    if key in LINEHAUL_PRODUCTS and "{" in rest:
        return _linehaul(info, rest)
    if key == "bandersnatch":
        return _bandersnatch(info, rest)
    if key in {"devpi-server", "devpi"}:
        return _devpi(info, rest)
    if key == "python-urllib":
        # urllib's own agent names the Python it runs on: "Python-urllib/3.11".
        return _with_python(replace(info, installer_version=None), version, "CPython")
    return _product_tokens(info, rest)


def _linehaul(info: ClientInfo, rest: str) -> ClientInfo:
    # Hatch appends tokens after the JSON; the object runs from the first "{" to the last "}".
    start, end = rest.find("{"), rest.rfind("}")
    try:
        data = json.loads(rest[start : end + 1])
    except (ValueError, RecursionError):
        return info
    if not isinstance(data, dict):
        return info
    installer = _mapping(data.get("installer"))
    implementation = _mapping(data.get("implementation"))
    system = _mapping(data.get("system"))
    distro = _mapping(data.get("distro"))
    python = _text(data.get("python"))
    implementation_name = _text(implementation.get("name"))
    if python is None and implementation_name == "CPython":
        python = _text(implementation.get("version"))
    return replace(
        info,
        installer_version=_text(installer.get("version")) or info.installer_version,
        python=python,
        python_minor=python_minor(python),
        implementation=implementation_name,
        implementation_version=_text(implementation.get("version")),
        system=_system(system.get("name")),
        system_release=_text(system.get("release"), MAX_RELEASE),
        distro=_text(distro.get("name")),
        distro_version=_text(distro.get("version")),
        cpu=_text(data.get("cpu")),
        ci=data.get("ci") is True,
    )


def _product_tokens(info: ClientInfo, rest: str) -> ClientInfo:
    """Read ``Impl/version`` and ``System/release`` tokens, as requests-toolbelt writes them.

    poetry, pdm, twine and pip before 6 describe themselves that way:
    ``poetry/1.8.2 CPython/3.11.7 Linux/6.5.0-1016-azure``.
    """
    for token in rest.split():
        name, slash, value = token.partition("/")
        if not slash:
            continue
        implementation = _IMPLEMENTATIONS.get(name.lower())
        if name.lower() == "python-urllib":
            # setuptools' easy_install: "setuptools/69.0.3 Python-urllib/3.11".
            implementation = "CPython"
        if implementation is not None and info.implementation is None:
            info = _with_python(info, value, implementation)
        elif name in KNOWN_SYSTEMS and info.system is None:
            info = replace(info, system=name, system_release=_text(value, MAX_RELEASE))
    return info


def _with_python(info: ClientInfo, version: str, implementation: str) -> ClientInfo:
    version_text = _text(version)
    # Only CPython's version is the Python version; PyPy's is its own (7.3.15).
    python = version_text if implementation == "CPython" else None
    return replace(
        info,
        implementation=implementation,
        implementation_version=version_text,
        python=python,
        python_minor=python_minor(python),
    )


def _bandersnatch(info: ClientInfo, rest: str) -> ClientInfo:
    match = _BANDERSNATCH.search(rest)
    if match is None:
        return info
    implementation, version, system, cpu = match.groups()
    # bandersnatch prints sys.version_info: the Python version, whatever the implementation.
    return replace(
        info,
        implementation=_IMPLEMENTATIONS.get(implementation.lower(), _text(implementation)),
        python=_text(version),
        python_minor=python_minor(version),
        system=_system(system),
        cpu=_text(cpu),
    )


def _devpi(info: ClientInfo, rest: str) -> ClientInfo:
    match = _DEVPI.search(rest)
    if match is None:
        return info
    python, platform = match.groups()
    return replace(
        info, python=_text(python), python_minor=python_minor(python), system=_system(platform)
    )


def _browser(info: ClientInfo, user_agent: str) -> ClientInfo:
    # The first parenthesis holds the platform: "(Windows NT 10.0; Win64; x64)".
    platform = user_agent.partition("(")[2].partition(")")[0]
    system = None
    if "Windows" in platform:
        system = "Windows"
    elif "iPhone" in platform or "iPad" in platform:
        system = "iOS"
    elif "Macintosh" in platform or "Mac OS X" in platform:
        system = "Darwin"
    elif "Android" in platform:
        system = "Android"
    elif "Linux" in platform or "X11" in platform or "CrOS" in platform:
        system = "Linux"
    # A browser's version says nothing useful about the download; keep the product only.
    return replace(info, installer="browser", installer_version=None, system=system)


def _system(value: object) -> str | None:
    name = _text(value)
    if name is None:
        return None
    return PLATFORM_SYSTEMS.get(name.lower(), name) if name.islower() else name


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object, limit: int = MAX_FIELD) -> str | None:
    """A short, printable string, or None for anything else (numbers, nulls, lists...)."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:limit]
    return text if text and text.isprintable() else None
