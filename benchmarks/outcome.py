"""How a benchmark run ends, for every driver alike: timed, judged, saved, printed.

A failure (or Ctrl-C) part-way still saves and prints what was measured, with the error, so
a long run is never lost to its last step; the exit status says it failed.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Bar

Results = dict[str, Any]


def run_and_report(
    step: Callable[[Results], None],
    results: Results,
    path: Path,
    bars: Callable[[Results], list[Bar]],
    render: Callable[[Results], str],
) -> int:
    """Run ``step`` on ``results``, then judge the bars, write ``path`` and print the table."""
    started = time.perf_counter()
    failed = False
    try:
        step(results)
    except (Exception, KeyboardInterrupt) as error:
        failed = True
        results["error"] = "".join(traceback.format_exception_only(error)).strip()
        traceback.print_exc()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["bars"] = [bar.as_dict() for bar in bars(results)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(render(results))
    machine = results["machine"]
    print(
        f"\nrun took {results['elapsed_s']:.0f} s; load average {machine['loadavg_start']} at the "
        f"start, {machine['loadavg_end']} at the end; raw results in {path}"
    )
    return 1 if failed else 0
