"""README rendering to safe HTML with readme-renderer, as PyPI renders descriptions."""

from __future__ import annotations

import html
from email.message import Message

import readme_renderer.markdown
import readme_renderer.rst
import readme_renderer.txt


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
