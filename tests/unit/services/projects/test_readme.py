"""services.projects.readme: descriptions rendered as PyPI renders them, in bounded time."""

from __future__ import annotations

import time

import pytest

from wheelyard.services.projects import readme


def test_markdown_rst_and_plain_text_render() -> None:
    assert "<h1" in readme.render("# Title", "text/markdown")
    assert "<em>x</em>" in readme.render("*x*", None)  # reStructuredText when untyped
    assert readme.render("a < b", "text/plain") == readme.plain("a < b")
    assert "&lt;" in readme.plain("a < b")


def test_a_bounded_render_gives_what_an_inline_one_gives() -> None:
    source = "# Title\n\nSome *text* and a [link](https://example.org)."
    rendered = readme.render_bounded(source, "text/markdown", seconds=30)
    assert rendered == readme.render(source, "text/markdown")
    assert readme.render_bounded(None, "text/markdown", seconds=30) == ""


def test_a_readme_past_its_deadline_is_refused_in_time() -> None:
    readme.render_bounded("warm", "text/plain", seconds=30)  # the pool is up
    started = time.monotonic()
    with pytest.raises(readme.ReadmeTooSlow, match=r"did not render within 0\.5 seconds"):
        # Rendering this takes tens of seconds: quadratic in the nesting.
        readme.render_bounded(">" * 64_000, "text/markdown", seconds=0.5)
    assert time.monotonic() - started < 10
    # The killed worker was replaced: the next render works.
    assert "<h1" in readme.render_bounded("# again", "text/markdown", seconds=30)
