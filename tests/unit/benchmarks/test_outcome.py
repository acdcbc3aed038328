from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks.outcome import run_and_report
from benchmarks.report import Bar


def fresh() -> dict[str, Any]:
    return {"machine": {"loadavg_start": (0.0, 0.0, 0.0)}}


def bars(results: dict[str, Any]) -> list[Bar]:
    return [Bar("measured", "figure" in results, "")]


def test_a_run_is_judged_saved_and_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "out" / "latest.json"
    code = run_and_report(lambda r: r.update(figure=1), fresh(), path, bars, lambda r: "TABLE")
    saved = json.loads(path.read_text())
    assert code == 0
    assert saved["figure"] == 1 and saved["bars"][0]["met"] is True
    assert "TABLE" in capsys.readouterr().out


def test_a_failing_step_still_saves_what_it_measured(tmp_path: Path) -> None:
    def step(results: dict[str, Any]) -> None:
        results["figure"] = 2
        raise RuntimeError("upstream did not start")

    path = tmp_path / "latest.json"
    code = run_and_report(step, fresh(), path, bars, lambda r: "")
    saved = json.loads(path.read_text())
    assert code == 1
    assert saved["figure"] == 2
    assert saved["error"] == "RuntimeError: upstream did not start"
