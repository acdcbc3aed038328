"""The committed Pygments stylesheet is the one scripts/generate-pygments-css makes now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_stylesheet_is_current() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate-pygments-css"), "--check"], check=False
    )
    assert check.returncode == 0, "run scripts/generate-pygments-css and commit the result"
    css = (ROOT / "src" / "wheelyard" / "web" / "static" / "pygments.css").read_text()
    # The classes readme-renderer's highlighted code carries, scoped to READMEs.
    for rule in (".readme pre .k ", ".readme pre .s1 ", ".readme pre .nn "):
        assert rule in css
    assert "\npre " not in css
