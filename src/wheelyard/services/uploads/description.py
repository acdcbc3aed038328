"""A project's descriptive columns, filled from the metadata of its newest release.

The README comes rendered (before the upload's transaction, with a deadline: see
register.prepare), so page views never run the renderer; authors are shown as PyPI shows
them.
"""

from __future__ import annotations

from email.utils import getaddresses

from packaging.metadata import Metadata
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.projects.classifiers import describe_by_classifiers
from wheelyard.services.projects.project_urls import labelled_url

# packages.author_name and packages.author_email
_MAX_PEOPLE_LENGTH = 512


def describe(
    db: Session, package: Package, metadata: Metadata, description_html: str | None
) -> None:
    """Fill the project's descriptive columns from the metadata of its newest release and
    its README, rendered."""
    package.summary = metadata.summary
    package.description = metadata.description
    package.description_content_type = metadata.description_content_type
    package.description_html = description_html
    package.keywords = ",".join(metadata.keywords) if metadata.keywords else None
    urls = metadata.project_urls or {}
    package.home_page = metadata.home_page or labelled_url(urls, ("homepage", "home"))
    package.docs_url = labelled_url(urls, ("documentation", "docs"))
    package.author_name, package.author_email = _people(
        metadata.author or metadata.maintainer,
        metadata.author_email or metadata.maintainer_email,
    )
    expression = metadata.license_expression
    describe_by_classifiers(
        db,
        package,
        metadata.classifiers or [],
        license_expression=str(expression) if expression is not None else None,
        license_text=metadata.license,
    )


def _people(names: str | None, emails: str | None) -> tuple[str | None, str | None]:
    """(names, addresses): "Ada <ada@example.com>" puts Ada among the names, as PyPI shows it."""
    parsed = getaddresses([emails]) if emails else []
    addresses = [address for _, address in parsed if address]
    named = [name for name, _ in parsed if name]
    display = names or ", ".join(named) or None
    return _cut(display, _MAX_PEOPLE_LENGTH), _cut(", ".join(addresses) or None, _MAX_PEOPLE_LENGTH)


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None
