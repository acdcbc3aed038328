"""README rendering to safe HTML with readme-renderer, as PyPI renders descriptions.

Some markup takes time that grows as the square of its size (a markdown README of 32,000
``>`` renders for over ten seconds), so an upload's README is rendered by
:func:`render_bounded` in a worker process with a deadline, and before the upload's write
transaction begins: a slow README costs its uploader a refusal, not everyone the write lock.
"""

from __future__ import annotations

import atexit
import html
import multiprocessing
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from email.message import Message

import readme_renderer.markdown
import readme_renderer.rst
import readme_renderer.txt
from pebble import ProcessExpired, ProcessPool

# Renders at once per server process; more wait their turn (the deadline starts when a
# render does, not while it waits).
RENDER_WORKERS = 2


class ReadmeTooSlow(Exception):
    """The README did not render within the deadline (or its renderer died trying)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The description (README) did not render within {seconds:g} seconds. "
            "Simplify its markup (deeply nested quotes or lists take longest) and upload again."
        )


def _content_type(description_content_type: str | None) -> tuple[str, dict[str, str]]:
    message = Message()
    message["content-type"] = description_content_type or "text/x-rst"
    params = {key.lower(): value for key, value in (message.get_params() or [])[1:]}
    return message.get_content_type(), params


def render(source: str | None, description_content_type: str | None) -> str:
    """Render a description; markup that fails to render is shown as escaped plain text."""
    if not source:
        return ""
    content_type, params = _content_type(description_content_type)
    rendered: str | None
    if content_type == "text/markdown":
        variant = params.get("variant", "GFM")
        rendered = readme_renderer.markdown.render(source, variant=variant)
    elif content_type == "text/plain":
        rendered = readme_renderer.txt.render(source)
    else:
        # PyPI's default for a missing type is reStructuredText.
        rendered = readme_renderer.rst.render(source)
    if rendered is None:
        return readme_renderer.txt.render(source) or f"<pre>{html.escape(source)}</pre>"
    return rendered


def plain(source: str | None) -> str:
    """The description as escaped plain text: linear in its size, for pages that must not wait."""
    if not source:
        return ""
    return readme_renderer.txt.render(source) or f"<pre>{html.escape(source)}</pre>"


_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


def _workers() -> ProcessPool:
    global _pool  # one pool per server process, started on first use
    with _pool_lock:
        if _pool is None or not _pool.active:
            # spawn: the server runs threads, and a forked child would inherit their locks.
            _pool = ProcessPool(
                max_workers=RENDER_WORKERS, context=multiprocessing.get_context("spawn")
            )
            atexit.register(_stop, _pool)
        return _pool


def _stop(pool: ProcessPool) -> None:
    # Before the interpreter tears down what a worker being replaced would still need.
    pool.stop()  # type: ignore[no-untyped-call]
    pool.join()


def render_bounded(
    source: str | None, description_content_type: str | None, *, seconds: float
) -> str:
    """:func:`render` in a worker process, given ``seconds`` to finish; ReadmeTooSlow if not.

    A render past its deadline has its worker killed (the pool starts another), so the
    time is really bounded.
    """
    if not source:
        return ""
    future = _workers().schedule(render, args=(source, description_content_type), timeout=seconds)
    try:
        result: str = future.result()
    except (FutureTimeout, ProcessExpired) as error:
        raise ReadmeTooSlow(seconds) from error
    return result
