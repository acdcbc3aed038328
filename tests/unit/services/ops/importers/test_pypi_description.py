"""services.ops.importers.pypi_description: a project's columns from a document's ``info``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.ops.importers.pypi_description import describe
from wheelyard.services.ops.importers.pypi_documents import column_width
from wheelyard.services.projects import readme


def described(db: Session, package: Package | None = None, **info: Any) -> Package:
    if package is None:
        package = Package(id="demo", name="demo")
        db.add(package)
        db.flush()
    describe(db, package, info)
    return package


def test_placeholders_and_blanks_are_left_empty(db: Session) -> None:
    package = described(
        db, summary="UNKNOWN", description="UNKNOWN", home_page="", license="UNKNOWN", keywords=None
    )
    assert package.summary is None
    assert package.description is None
    assert package.description_html is None
    assert package.home_page is None
    assert package.license_id is None
    assert package.keywords is None


def test_labelled_project_urls_stand_in_for_home_page_and_docs(db: Session) -> None:
    package = described(
        db,
        home_page="UNKNOWN",
        project_urls={
            "Homepage": "https://demo.example.org",
            "Documentation": "https://docs.example.org",
            "Source": "",
        },
        project_url="https://pypi.org/project/demo/",
    )
    assert (package.home_page, package.docs_url) == (
        "https://demo.example.org",
        "https://docs.example.org",
    )
    assert package.package_url == "https://pypi.org/project/demo/"


def test_the_author_falls_back_to_the_maintainer(db: Session) -> None:
    package = described(db, author="", maintainer="Team Demo", maintainer_email="team@example.org")
    assert (package.author_name, package.author_email) == ("Team Demo", "team@example.org")


def test_display_names_in_the_address_field_name_a_nameless_author(db: Session) -> None:
    package = described(db, author_email="Ann <ann@example.org>, bob@example.org")
    assert (package.author_name, package.author_email) == (
        "Ann",
        "ann@example.org, bob@example.org",
    )


def test_text_too_long_for_its_column_is_cut(db: Session) -> None:
    width = column_width(Package, "summary")
    package = described(db, summary="s" * (width + 10))
    assert package.summary == "s" * width


def test_the_readme_is_rendered_again_only_when_it_changed(db: Session) -> None:
    package = described(db, description="Demo\n====\n", description_content_type="text/x-rst")
    assert package.description_html == readme.render("Demo\n====\n", "text/x-rst")
    package.description_html = "<p>kept</p>"
    described(db, package, description="Demo\n====\n", description_content_type="text/x-rst")
    assert package.description_html == "<p>kept</p>"
    described(db, package, description="Other\n=====\n", description_content_type="text/x-rst")
    assert package.description_html == readme.render("Other\n=====\n", "text/x-rst")
