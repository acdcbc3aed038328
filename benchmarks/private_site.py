"""The private site's cost: the same wheelyard, anonymous and with ``WHEELYARD_PRIVATE=1``.

Each round restarts wheelyard on the same database and files, once as a public site read
anonymously and once as a private site read with a read-only API token (HTTP basic auth,
``__token__`` and the token, as pip sends it), and measures the simple page (HTML and
PEP 691 JSON) and the file download in both; the order of the two turns alternates, so the
machine's drift falls on both alike. Then ``pip install`` rounds with the token in the index
URL against the anonymous install. The bars: every private figure at least 0.8x of the
anonymous one, and pip with credentials within 1.1x.
"""

from __future__ import annotations

import base64
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import load, pip_runs
from benchmarks.peers import Probe, Wheelyard

PROBES = ("simple_html", "simple_json", "download")
MODES = ("anonymous", "private")
PRIVATE_ENV = {"WHEELYARD_PRIVATE": "1"}


def read_token(wy: Wheelyard) -> str:
    created = wy.cli("token", "create", "--email", wy.email, "--scope", "read")
    return created.strip().splitlines()[-1]


def basic_auth(token: str) -> dict[str, str]:
    secret = base64.b64encode(f"__token__:{token}".encode()).decode()
    return {"Authorization": f"Basic {secret}"}


def with_credentials(index_url: str, token: str) -> str:
    scheme, rest = index_url.split("://", 1)
    return f"{scheme}://__token__:{token}@{rest}"


def _start(wy: Wheelyard, mode: str) -> None:
    wy.restart(**(PRIVATE_ENV if mode == "private" else {}))


def measure(
    wy: Wheelyard,
    probes: dict[str, Probe],
    options: load.Load,
    results: dict[str, Any],
    say: Callable[[str], None],
) -> str:
    """Fill ``results["private"]`` with both modes' figures; returns the read token."""
    token = read_token(wy)
    credentials = basic_auth(token)
    rounds: dict[str, dict[str, list[load.WrkResult]]] = {
        mode: {name: [] for name in PROBES} for mode in MODES
    }
    for number in range(options.rounds):
        order = MODES if number % 2 == 0 else MODES[::-1]
        for mode in order:
            _start(wy, mode)
            for name in PROBES:
                probe = probes[name]
                headers = {**probe.headers, **(credentials if mode == "private" else {})}
                rounds[mode][name].append(load.measure(options, probe.url, headers))
    wy.restart()
    figures: dict[str, Any] = results.setdefault("private", {})
    for mode in MODES:
        for name in PROBES:
            combined = load.combine(rounds[mode][name])
            figures.setdefault(mode, {})[name] = combined.as_dict()
            say(
                f"{mode:<9} {name:<11} {combined.rps:>9,.0f} req/s  "
                f"p50 {combined.p50_ms:8.2f} ms"
                + (f"  non-2xx {combined.non_2xx}" if combined.non_2xx else "")
            )
    return token


def pip_rounds(
    wy: Wheelyard,
    token: str,
    rounds: int,
    workdir: Path,
    results: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    """``pip install`` anonymously from the public site and with the token from the private
    one, alternating; the median of each goes into ``results["private"]["pip"]``."""
    runs: dict[str, list[pip_runs.Install]] = {mode: [] for mode in MODES}
    for number in range(rounds):
        order = MODES if number % 2 == 0 else MODES[::-1]
        for mode in order:
            _start(wy, mode)
            url = with_credentials(wy.index_url, token) if mode == "private" else wy.index_url
            done = pip_runs.install(f"wheelyard-{mode}", url, workdir)
            say(f"pip install, {mode}: {done.seconds:.2f} s{'' if done.ok else ' FAILED'}")
            runs[mode].append(done)
    wy.restart()
    results.setdefault("private", {})["pip"] = {
        mode: {
            "seconds": statistics.median(run.seconds for run in attempts),
            "rounds": [round(run.seconds, 2) for run in attempts],
            "ok": all(run.ok for run in attempts),
            "output_tail": next((run.output_tail for run in attempts if not run.ok), ""),
        }
        for mode, attempts in runs.items()
    }
