"""The table ``make bench-upstream`` prints, and its bars, judged from the raw results.

The results are the JSON-shaped dict benchmarks/upstream.py writes
(``results/upstream-latest.json``); ``python -m benchmarks.upstream_report [FILE]`` prints a
saved run again. Servers: ``upstream`` (the plain wheelyard every proxy pulls from) and the
three proxies, ``wheelyard``, ``devpi`` and ``proxpi``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import Bar, at_least, format_number, format_ratio

SERVERS = ("upstream", "wheelyard", "devpi", "proxpi")
PROXIES = ("wheelyard", "devpi", "proxpi")
PEERS = ("devpi", "proxpi")
SIMPLE_PROBES = (("simple_html", "simple page HTML"), ("simple_json", "simple page JSON"))
Results = dict[str, Any]


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def simple_value(results: Results, server: str, probe: str, field: str) -> float | None:
    return _float(results.get("simple", {}).get(server, {}).get(probe, {}).get(field))


def pip_seconds(results: Results, server: str, state: str) -> float | None:
    """The median install time, cold or warm; None when it was not measured or failed."""
    entry = results.get("pip", {}).get(server, {}).get(state) or {}
    return _float(entry.get("seconds")) if entry.get("ok") else None


def first_byte_ms(results: Results, server: str, field: str = "first_byte_ms") -> float | None:
    entry = results.get("first_byte", {}).get(server) or {}
    return _float(entry.get(field)) if entry.get("ok") else None


def upstream_fetches(results: Results, server: str) -> float | None:
    entry = results.get("concurrent", {}).get(server) or {}
    return _float(entry.get("upstream_served"))


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[Results, str], float | None]
    digits: int = 0


def rows(results: Results) -> list[Row]:
    megabytes = results.get("settings", {}).get("large_file_mb", 20)
    clients = results.get("settings", {}).get("clients", 32)
    found = []
    for probe, label in SIMPLE_PROBES:
        found.append(Row(f"{label} (warm), req/s", _simple(probe, "rps")))
        found.append(Row(f"{label} (warm), p99 ms", _simple(probe, "p99_ms"), 2))
    found += [
        Row("pip install, cold cache, s", lambda r, s: pip_seconds(r, s, "cold"), 2),
        Row("pip install, warm cache, s", lambda r, s: pip_seconds(r, s, "warm"), 2),
        Row(f"first byte, uncached {megabytes} MB file, ms", first_byte_ms, 1),
        Row(
            f"whole uncached {megabytes} MB file, ms",
            lambda r, s: first_byte_ms(r, s, "total_ms"),
            1,
        ),
        Row(f"upstream fetches, {clients} first requests", upstream_fetches),
    ]
    return found


def _simple(probe: str, field: str) -> Callable[[Results, str], float | None]:
    return lambda results, server: simple_value(results, server, probe, field)


def table(results: Results) -> str:
    width = 44
    head = f"{'measurement':<{width}}" + "".join(f"{s:>11}" for s in SERVERS)
    head += "".join(f"{'wy/' + p:>13}" for p in ("upstream", *PEERS))
    lines = [head, "-" * len(head)]
    for row in rows(results):
        values = {server: row.value(results, server) for server in SERVERS}
        line = f"{row.label:<{width}}"
        line += "".join(f"{format_number(values[s], row.digits):>11}" for s in SERVERS)
        line += "".join(
            f"{format_ratio(values['wheelyard'], values[p]):>13}" for p in ("upstream", *PEERS)
        )
        lines.append(line)
    return "\n".join(lines)


# --- the bars ---------------------------------------------------------------------------------


def at_most(
    name: str, mine: float | None, theirs: float | None, factor: float, unit: str, digits: int
) -> Bar:
    """``mine`` no more than ``factor`` times ``theirs`` (times: lower is better)."""
    if mine is None or theirs is None or theirs == 0:
        return Bar(name, None, "missing measurement")
    ratio = mine / theirs
    detail = f"{mine:,.{digits}f} vs {theirs:,.{digits}f} {unit} = {ratio:,.2f}x (bar <= {factor}x)"
    return Bar(name, ratio <= factor, detail)


def _faster_peer(results: Results, state: str) -> tuple[str, float | None]:
    measured = [(p, pip_seconds(results, p, state)) for p in PEERS]
    timed = [(p, s) for p, s in measured if s is not None]
    if len(timed) < len(PEERS):
        return "", None  # the bar compares against both; one missing leaves it unjudged
    return min(timed, key=lambda pair: pair[1])


def _pip_bar(results: Results, state: str, factor: float) -> Bar:
    peer, theirs = _faster_peer(results, state)
    name = f"pip install, {state} cache, vs the faster of devpi and proxpi"
    bar = at_most(name, pip_seconds(results, "wheelyard", state), theirs, factor, "s", 2)
    if bar.met is None:
        return bar
    return Bar(bar.name, bar.met, f"{bar.detail}; the faster was {peer}")


def _concurrency_bar(results: Results) -> Bar:
    entry = results.get("concurrent", {}).get("wheelyard") or {}
    clients = entry.get("clients")
    name = f"{clients or 32} concurrent first requests through wheelyard: one upstream fetch"
    served, ok = entry.get("upstream_served"), entry.get("ok")
    if not isinstance(served, int) or not isinstance(clients, int):
        return Bar(name, None, "missing measurement")
    others = ", ".join(
        f"{peer} {fetches:.0f}"
        for peer in PEERS
        if (fetches := upstream_fetches(results, peer)) is not None
    )
    detail = f"the upstream served the file {served} time(s); {ok} of {clients} answers whole"
    if others:
        detail += f" (information: {others})"
    return Bar(name, served == 1 and ok == clients, detail)


def bars(results: Results) -> list[Bar]:
    found: list[Bar] = []
    for probe, label in SIMPLE_PROBES:
        mine = simple_value(results, "wheelyard", probe, "rps")
        found.append(
            at_least(
                f"{label} (cached upstream project) vs the upstream's own local page",
                mine,
                simple_value(results, "upstream", probe, "rps"),
                0.9,
            )
        )
        found.append(
            at_least(
                f"{label} vs devpi's mirror",
                mine,
                simple_value(results, "devpi", probe, "rps"),
                20.0,
            )
        )
    found.append(_pip_bar(results, "cold", 1.2))
    found.append(_pip_bar(results, "warm", 1.0))
    megabytes = results.get("settings", {}).get("large_file_mb", 20)
    found.append(
        at_most(
            f"first byte of an uncached {megabytes} MB file vs straight from the upstream",
            first_byte_ms(results, "wheelyard"),
            first_byte_ms(results, "upstream"),
            1.5,
            "ms",
            1,
        )
    )
    found.append(_concurrency_bar(results))
    return found


def render(results: Results) -> str:
    parts = [table(results), "", "bars:", *(bar.line() for bar in bars(results))]
    notes = results.get("notes") or []
    if notes:
        parts += ["", "notes:", *(f"- {note}" for note in notes)]
    return "\n".join(parts)


if __name__ == "__main__":
    default = Path(__file__).parent / "results" / "upstream-latest.json"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print(render(json.loads(path.read_text())))
