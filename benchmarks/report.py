"""The table a run prints, and the bars the issue sets, judged from the raw results.

The raw results are plain JSON-shaped dicts (``results/latest.json``); everything here reads
them, so a saved run can be printed again with ``python -m benchmarks.report FILE``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVERS = ("wheelyard", "pypiserver", "devpi", "nginx")
PEERS = ("pypiserver", "devpi", "nginx")
Results = dict[str, Any]


def wrk_value(results: Results, phase: str, server: str, probe: str, field: str) -> float | None:
    value = results.get(phase, {}).get(server, {}).get(probe, {}).get(field)
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[Results, str], float | None]
    digits: int = 0


def _wrk_row(label: str, phase: str, probe: str, field: str, digits: int = 0) -> Row:
    return Row(label, lambda r, s: wrk_value(r, phase, s, probe, field), digits)


def _seconds_row(label: str, key: str) -> Row:
    def value(results: Results, server: str) -> float | None:
        entry = results.get(key, {}).get(server)
        if isinstance(entry, dict):
            entry = entry.get("seconds") if entry.get("ok", True) else None
        return float(entry) if isinstance(entry, int | float) else None

    return Row(label, value, 2)


def _recording_off(results: Results, server: str) -> float | None:
    if server != "wheelyard":
        return None
    off = results.get("recording", {}).get("off") or {}
    value = off.get("rps")
    return float(value) if isinstance(value, int | float) else None


def _devpi_token_twine(results: Results, server: str) -> float | None:
    value = results.get("twine", {}).get("devpi_login_token")
    return float(value) if server == "devpi" and isinstance(value, int | float) else None


def rows(results: Results) -> list[Row]:
    small = f"{results.get('files', {}).get('phase1', 0):,} files"
    large = f"{results.get('files', {}).get('phase2', 0):,} files"
    return [
        _wrk_row(f"simple page HTML, req/s ({large})", "phase2", "simple_html", "rps"),
        _wrk_row("simple page HTML, p99 ms", "phase2", "simple_html", "p99_ms", 2),
        _wrk_row("simple page JSON, req/s", "phase2", "simple_json", "rps"),
        _wrk_row("simple page JSON, p99 ms", "phase2", "simple_json", "p99_ms", 2),
        _wrk_row("file download, req/s", "phase2", "download", "rps"),
        _wrk_row("file download, p99 ms", "phase2", "download", "p99_ms", 2),
        Row("file download, recording off, req/s", _recording_off),
        _wrk_row("JSON API, req/s", "phase2", "json_api", "rps"),
        _wrk_row("JSON API, p99 ms", "phase2", "json_api", "p99_ms", 2),
        _seconds_row("twine upload of the real files, s", "twine"),
        Row("  devpi with its login token as password, s", _devpi_token_twine, 2),
        _seconds_row("load the generated files, s", "load_generated"),
        _seconds_row("pip install flask requests alembic, s", "pip"),
        _wrk_row(f"simple HTML p50 ms, {small}", "phase1", "simple_html", "p50_ms", 2),
        _wrk_row(f"simple HTML p50 ms, {large}", "phase2", "simple_html", "p50_ms", 2),
        _wrk_row(f"simple JSON p50 ms, {small}", "phase1", "simple_json", "p50_ms", 2),
        _wrk_row(f"simple JSON p50 ms, {large}", "phase2", "simple_json", "p50_ms", 2),
        _wrk_row(f"download p50 ms, {small}", "phase1", "download", "p50_ms", 2),
        _wrk_row(f"download p50 ms, {large}", "phase2", "download", "p50_ms", 2),
    ]


def format_number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_ratio(mine: float | None, theirs: float | None) -> str:
    if mine is None or theirs is None or theirs == 0:
        return "-"
    return f"{mine / theirs:,.2f}x"


def table(results: Results) -> str:
    width = 46
    head = f"{'measurement':<{width}}" + "".join(f"{s:>12}" for s in SERVERS)
    head += "".join(f"{'wy/' + p[:6]:>11}" for p in PEERS)
    lines = [head, "-" * len(head)]
    for row in rows(results):
        values = {server: row.value(results, server) for server in SERVERS}
        line = f"{row.label:<{width}}"
        line += "".join(f"{format_number(values[s], row.digits):>12}" for s in SERVERS)
        line += "".join(f"{format_ratio(values['wheelyard'], values[p]):>11}" for p in PEERS)
        lines.append(line)
    return "\n".join(lines)


# --- the bars ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    name: str
    met: bool | None  # None: could not be measured in this run
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "met": self.met, "detail": self.detail}

    def line(self) -> str:
        verdict = {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[self.met]
        return f"{verdict:<12} {self.name}: {self.detail}"


def at_least(name: str, mine: float | None, theirs: float | None, factor: float) -> Bar:
    if mine is None or theirs is None or theirs == 0:
        return Bar(name, None, "missing measurement")
    ratio = mine / theirs
    detail = f"{mine:,.0f} vs {theirs:,.0f} req/s = {ratio:,.2f}x (bar {factor}x)"
    return Bar(name, ratio >= factor, detail)


def _flat(results: Results, probe: str, label: str, limit: float) -> Bar:
    small = wrk_value(results, "phase1", "wheelyard", probe, "p50_ms")
    large = wrk_value(results, "phase2", "wheelyard", probe, "p50_ms")
    name = f"{label} p50 flat in index size"
    if small is None or large is None or small == 0:
        return Bar(name, None, "missing measurement")
    files = results.get("files", {})
    detail = (
        f"{large:.2f} ms at {files.get('phase2', 0):,} files vs {small:.2f} ms at "
        f"{files.get('phase1', 0):,} = {large / small:.2f}x (bar <= {limit}x)"
    )
    control_small = wrk_value(results, "phase1", "nginx", probe, "p50_ms")
    control_large = wrk_value(results, "phase2", "nginx", probe, "p50_ms")
    if control_small and control_large:
        drift = control_large / control_small
        detail += (
            f"; nginx, same file both times: {drift:.2f}x, so relative to the machine's "
            f"drift wheelyard's p50 moved {large / small / drift:.2f}x"
        )
    return Bar(name, large / small <= limit, detail)


def _recording_bars(results: Results) -> list[Bar]:
    recording = results.get("recording", {})
    on = (recording.get("on") or {}).get("rps")
    off = (recording.get("off") or {}).get("rps")
    how = recording.get("off_method", "")
    speed = at_least("downloads, recording on vs off", on, off, 0.8)
    if how and speed.met is not None:
        speed = Bar(speed.name, speed.met, f"{speed.detail}; off = {how}")
    count = recording.get("count") or {}
    name = "downloads table: one row per download served"
    if not count:
        exact = Bar(name, None, "missing measurement")
    elif not count.get("complete"):
        exact = Bar(name, None, f"wrk did not finish its download budget: {count}")
    else:
        rows_added, served = count["rows_added"], count["served"]
        exact = Bar(name, rows_added == served, f"{rows_added:,} rows for {served:,} downloads")
    return [speed, exact]


def _twine_bar(results: Results) -> Bar:
    mine = results.get("twine", {}).get("wheelyard")
    theirs = results.get("twine", {}).get("devpi")
    name = "twine upload of the real files vs devpi"
    if not isinstance(mine, int | float) or not isinstance(theirs, int | float) or not theirs:
        return Bar(name, None, "missing measurement")
    detail = f"{mine:.2f} s vs {theirs:.2f} s = {mine / theirs:.2f}x (bar <= 0.5x)"
    token = results.get("twine", {}).get("devpi_login_token")
    if isinstance(token, int | float) and token:
        detail += f"; vs devpi with its login token {token:.2f} s = {mine / token:.2f}x"
    return Bar(name, mine / theirs <= 0.5, detail)


PRIVATE_PROBES = (
    ("simple_html", "simple page HTML"),
    ("simple_json", "simple page JSON"),
    ("download", "file download"),
)


def _private_rps(results: Results, mode: str, probe: str) -> float | None:
    value = results.get("private", {}).get(mode, {}).get(probe, {}).get("rps")
    return float(value) if isinstance(value, int | float) else None


def _private_pip(results: Results, mode: str) -> float | None:
    entry = results.get("private", {}).get("pip", {}).get(mode) or {}
    value = entry.get("seconds") if entry.get("ok") else None
    return float(value) if isinstance(value, int | float) else None


def private_table(results: Results) -> str:
    """The private site against the same wheelyard read anonymously, same run."""
    lines = [
        "private site (WHEELYARD_PRIVATE=1, read token) vs anonymous, wheelyard only:",
        f"{'measurement':<40}{'anonymous':>12}{'private':>12}{'ratio':>9}",
    ]
    for probe, label in PRIVATE_PROBES:
        anonymous = _private_rps(results, "anonymous", probe)
        private = _private_rps(results, "private", probe)
        lines.append(
            f"{label + ', req/s':<40}{format_number(anonymous, 0):>12}"
            f"{format_number(private, 0):>12}{format_ratio(private, anonymous):>9}"
        )
    anonymous_pip, private_pip = (
        _private_pip(results, "anonymous"),
        _private_pip(results, "private"),
    )
    lines.append(
        f"{'pip install flask requests alembic, s':<40}{format_number(anonymous_pip, 2):>12}"
        f"{format_number(private_pip, 2):>12}{format_ratio(private_pip, anonymous_pip):>9}"
    )
    return "\n".join(lines)


def _private_bars(results: Results) -> list[Bar]:
    found = [
        at_least(
            f"private site {label} vs anonymous",
            _private_rps(results, "private", probe),
            _private_rps(results, "anonymous", probe),
            0.8,
        )
        for probe, label in PRIVATE_PROBES
    ]
    anonymous, private = _private_pip(results, "anonymous"), _private_pip(results, "private")
    name = "pip install with credentials vs without"
    if anonymous is None or private is None or anonymous == 0:
        found.append(Bar(name, None, "missing measurement"))
    else:
        ratio = private / anonymous
        detail = f"{private:.2f} s vs {anonymous:.2f} s = {ratio:.2f}x (bar <= 1.1x)"
        found.append(Bar(name, ratio <= 1.1, detail))
    return found


def bars(results: Results) -> list[Bar]:
    def rps(server: str, probe: str) -> float | None:
        return wrk_value(results, "phase2", server, probe, "rps")

    found: list[Bar] = []
    for probe, label in (("simple_html", "simple page HTML"), ("simple_json", "simple page JSON")):
        for peer, factor in (("pypiserver", 30.0), ("devpi", 30.0), ("nginx", 0.5)):
            found.append(
                at_least(
                    f"{label} req/s vs {peer}", rps("wheelyard", probe), rps(peer, probe), factor
                )
            )
    found.append(_flat(results, "simple_html", "simple page HTML", 1.2))
    found.append(_flat(results, "simple_json", "simple page JSON", 1.2))
    found.append(_flat(results, "download", "file download", 1.2))
    found += _recording_bars(results)
    found.append(_twine_bar(results))
    found += _private_bars(results)
    return found


def render(results: Results) -> str:
    parts = [table(results), "", private_table(results), "", "bars:"]
    parts += [bar.line() for bar in bars(results)]
    notes = results.get("notes") or []
    if notes:
        parts += ["", "notes:", *(f"- {note}" for note in notes)]
    return "\n".join(parts)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results/latest.json"
    print(render(json.loads(path.read_text())))
