from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from benchmarks import wheels
from benchmarks.soak_load import InstallTarget, Plan, is_error, percentile, twine_fields


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0


def test_percentile_refuses_nothing_to_rank() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match="fraction"):
        percentile([1.0], 0)


@pytest.mark.parametrize(
    ("status", "error"), [(200, False), (301, False), (404, True), (500, True)]
)
def test_only_successes_and_redirects_are_not_errors(status: int, error: bool) -> None:
    assert is_error(status) is error


def test_plan_survives_the_trip_to_the_generator_process() -> None:
    plan = Plan(
        base_url="http://127.0.0.1:1",
        duration=3.0,
        concurrency=2,
        seed=1,
        installs=[InstallTarget("a", "http://127.0.0.1:1/packages/a.whl", True)],
        projects=["a"],
        search_terms=["a"],
        upload_url="http://127.0.0.1:1/legacy/",
        token="t",
        upload_share=0.02,
        upload_projects=["a"],
        new_project_prefix="new",
    )
    assert Plan.from_json(plan.to_json()) == plan


def test_upload_fields_are_twines_for_the_wheel(tmp_path: Path) -> None:
    wheel = wheels.TinyWheel("yard-soak-owned-1", "9.0.4")
    path = tmp_path / wheel.filename
    path.write_bytes(wheels.build(wheel))
    fields = dict(twine_fields(path))
    assert fields[":action"] == "file_upload"
    assert fields["protocol_version"] == "1"
    assert fields["name"] == "yard-soak-owned-1"
    assert fields["version"] == "9.0.4"
    assert fields["filetype"] == "bdist_wheel"
    assert fields["requires_python"] == wheels.REQUIRES_PYTHON
    assert fields["sha256_digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
