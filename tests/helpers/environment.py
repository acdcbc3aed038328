"""What the suite takes from outside the checkout: a PostgreSQL server, the shared data sets.

The suite runs on SQLite unless ``WHEELYARD_TEST_POSTGRES_URL`` names a PostgreSQL database
(.ci/run runs it both ways). The real-world data sets live beside the checkout, not in it,
so tests that need them skip when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

POSTGRES_URL_VARIABLE = "WHEELYARD_TEST_POSTGRES_URL"
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def postgres_url() -> str | None:
    """The PostgreSQL server the suite was pointed at, or None to run on SQLite."""
    return os.environ.get(POSTGRES_URL_VARIABLE) or None
