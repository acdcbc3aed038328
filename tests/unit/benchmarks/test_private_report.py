"""The private site's table and bars, judged from raw results as a run writes them."""

from __future__ import annotations

from typing import Any

from benchmarks import report
from benchmarks.private_site import basic_auth, with_credentials


def results(private_rps: float, private_pip: float) -> dict[str, Any]:
    figures = {probe: {"rps": 1000.0} for probe in ("simple_html", "simple_json", "download")}
    return {
        "private": {
            "anonymous": figures,
            "private": {probe: {"rps": private_rps} for probe in figures},
            "pip": {
                "anonymous": {"seconds": 3.0, "ok": True},
                "private": {"seconds": private_pip, "ok": True},
            },
        }
    }


def verdicts(raw: dict[str, Any]) -> dict[str, bool | None]:
    return {
        bar.name: bar.met for bar in report.bars(raw) if bar.name.startswith(("private", "pip"))
    }


def test_figures_within_the_bars_are_met() -> None:
    found = verdicts(results(private_rps=850.0, private_pip=3.2))
    assert found == {
        "private site simple page HTML vs anonymous": True,
        "private site simple page JSON vs anonymous": True,
        "private site file download vs anonymous": True,
        "pip install with credentials vs without": True,
    }


def test_figures_outside_the_bars_are_not() -> None:
    found = verdicts(results(private_rps=700.0, private_pip=3.6))
    assert set(found.values()) == {False}


def test_a_run_without_the_private_phase_is_not_measured() -> None:
    assert set(verdicts({}).values()) == {None}
    assert "0.85x" in report.private_table(results(850.0, 3.0))


def test_credentials_go_where_pip_reads_them() -> None:
    assert with_credentials("http://127.0.0.1:9/simple/", "t0k") == (
        "http://__token__:t0k@127.0.0.1:9/simple/"
    )
    assert basic_auth("t0k") == {"Authorization": "Basic X190b2tlbl9fOnQwaw=="}
