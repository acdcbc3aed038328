"""Other tools that mirror or front wheelyard, each from PyPI in a virtualenv of its own.

The virtualenvs are the benchmarks' (benchmarks/peers.py ``ensure_venv``): made on first use
(the only step that reaches PyPI), then reused while their requirements stay the same, under
``benchmarks/.venvs`` or ``WHEELYARD_PEER_VENVS``. The tested traffic stays on loopback.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.net import free_port
from benchmarks.peers import DEVPI_VENV, VenvSpec, ensure_venv
from benchmarks.proxies import PROXPI_VENV, DevpiMirror, Proxpi

BANDERSNATCH_VENV = VenvSpec("bandersnatch", ("bandersnatch==6.*",))

# The servers as the benchmarks start and stop them, on free loopback ports.
__all__ = [
    "BANDERSNATCH_VENV",
    "DEVPI_VENV",
    "PROXPI_VENV",
    "DevpiMirror",
    "Proxpi",
    "free_port",
    "peer_venv",
]


def peer_venv(spec: VenvSpec) -> Path:
    """The peer's virtualenv, installed from PyPI the first time."""
    return ensure_venv(spec)
