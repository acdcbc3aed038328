"""services.uploads.description: a project's columns from its newest release's metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.projects import readme
from wheelyard.services.uploads.description import describe
from wheelyard.services.uploads.metadata import validate_metadata

BASE = {"metadata_version": "2.4", "name": "tiny-lib", "version": "1.0"}


def described(db: Session, **fields: Any) -> Package:
    package = Package(id="tiny-lib", name="tiny-lib")
    db.add(package)
    db.flush()
    metadata = validate_metadata({**BASE, **fields})  # type: ignore[typeddict-item]
    describe(db, package, metadata, readme.render(metadata.description, "text/x-rst"))
    return package


def test_the_descriptive_columns_come_from_the_metadata(db: Session) -> None:
    readme_text = "Tiny\n====\n\nIt is *tiny*.\n"
    package = described(
        db,
        summary="A tiny lib",
        description=readme_text,
        description_content_type="text/x-rst",
        keywords=["tiny", "lib"],
        project_urls={"Documentation": "https://example.com/docs"},
        home_page="https://example.com",
    )
    assert package.summary == "A tiny lib"
    assert package.description == readme_text
    assert package.description_html == readme.render(readme_text, "text/x-rst")
    assert package.keywords == "tiny,lib"
    assert (package.home_page, package.docs_url) == (
        "https://example.com",
        "https://example.com/docs",
    )


def test_a_labelled_homepage_stands_in_for_home_page(db: Session) -> None:
    package = described(db, project_urls={"Homepage": "https://example.com/home"})
    assert package.home_page == "https://example.com/home"
    assert package.keywords is None


def test_named_addresses_give_the_authors_names(db: Session) -> None:
    package = described(db, author_email="Ada <ada@example.com>, bob@example.com")
    assert (package.author_name, package.author_email) == (
        "Ada",
        "ada@example.com, bob@example.com",
    )


def test_the_maintainer_stands_in_for_a_missing_author(db: Session) -> None:
    package = described(db, maintainer="Mo", maintainer_email="mo@example.com")
    assert (package.author_name, package.author_email) == ("Mo", "mo@example.com")
