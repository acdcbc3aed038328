"""A project's descriptive columns from a PyPI JSON document's ``info``.

``info`` is the metadata of the project's newest release, so the importer calls this only
when a document brings a new release (or the project itself). The README is rendered here,
once, so page views never run the renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import getaddresses
from typing import Any

from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.ops.importers.pypi_documents import fit, mapping_of, text_of
from wheelyard.services.projects import readme
from wheelyard.services.projects.classifiers import describe_by_classifiers
from wheelyard.services.projects.project_urls import labelled_url


def describe(db: Session, package: Package, info: Mapping[str, Any]) -> None:
    """Fill the project's descriptive columns from ``info`` (its newest release's metadata)."""
    description = text_of(info.get("description"))
    content_type = fit(
        text_of(info.get("description_content_type")), Package, "description_content_type"
    )
    urls = {
        label: url
        for label, url in mapping_of(info.get("project_urls")).items()
        if isinstance(label, str) and text_of(url)
    }
    listed = info.get("classifiers")
    classifiers = [c for c in listed if isinstance(c, str)] if isinstance(listed, list) else []
    package.summary = fit(text_of(info.get("summary")), Package, "summary")
    # Rendered here, once, so page views never run the renderer; and again only when the
    # text changed, because rendering a long README costs more than the rest of the import.
    unchanged = (description, content_type) == (
        package.description,
        package.description_content_type,
    )
    if not unchanged or (description is not None and package.description_html is None):
        package.description_html = readme.render(description, content_type) if description else None
    package.description = description
    package.description_content_type = content_type
    package.keywords = fit(text_of(info.get("keywords")), Package, "keywords")
    package.home_page = fit(
        text_of(info.get("home_page")) or _labelled(urls, ("homepage", "home")),
        Package,
        "home_page",
    )
    package.docs_url = fit(
        text_of(info.get("docs_url")) or _labelled(urls, ("documentation", "docs")),
        Package,
        "docs_url",
    )
    package.package_url = fit(
        text_of(info.get("package_url")) or text_of(info.get("project_url")),
        Package,
        "package_url",
    )
    package.author_name, package.author_email = _author(info)
    describe_by_classifiers(
        db,
        package,
        classifiers,
        license_expression=text_of(info.get("license_expression")),
        license_text=text_of(info.get("license")),
    )


def _labelled(urls: Mapping[str, str], labels: Sequence[str]) -> str | None:
    # Dumps say "UNKNOWN" or "" where a URL is missing: those count as none.
    return text_of(labelled_url(urls, labels))


def _author(info: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(name, addresses) as PyPI shows the author; the maintainer stands in for a missing one."""
    names = text_of(info.get("author")) or text_of(info.get("maintainer"))
    emails = text_of(info.get("author_email")) or text_of(info.get("maintainer_email"))
    parsed = getaddresses([emails]) if emails else []
    addresses = ", ".join(address for _, address in parsed if address) or None
    if names is None:
        names = ", ".join(display for display, _ in parsed if display) or None
    return fit(names, Package, "author_name"), fit(addresses, Package, "author_email")
