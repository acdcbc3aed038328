"""services.search: matching and ranking on name and summary, in plain SQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import Factory
from wheelyard.services import search
from wheelyard.services.pagination import PageOutOfRange


def names(db: Session, text: str, page: int = 1, size: int = 50) -> list[str]:
    return [package.name for package in search.search(db, text, page, size).items]


@pytest.fixture
def projects(make: Factory) -> None:
    make.package("Django", summary="The web framework for perfectionists")
    make.package("django-rest-framework", summary="Web APIs for Django")
    make.package("my_django_tools", summary="Tools")
    make.package("flask", summary="A micro framework; works with django-style apps")
    make.package("zope.interface", summary="Interfaces for Python")


def test_ranking_exact_prefix_contains_summary(db: Session, projects: None) -> None:
    assert names(db, "django") == [
        "Django",
        "django-rest-framework",
        "my_django_tools",
        "flask",
    ]


def test_exact_match_uses_the_normalized_name(db: Session, projects: None) -> None:
    assert names(db, "Zope_Interface") == ["zope.interface"]
    assert names(db, "my-django-tools")[0] == "my_django_tools"


def test_prefix_on_the_normalized_name(db: Session, projects: None) -> None:
    assert names(db, "django_rest") == ["django-rest-framework"]


def test_every_word_must_match_somewhere(db: Session, projects: None) -> None:
    assert names(db, "web framework") == ["Django", "django-rest-framework"]
    assert names(db, "framework micro") == ["flask"]
    assert names(db, "framework nonsense") == []


def test_case_and_surrounding_space_do_not_matter(db: Session, projects: None) -> None:
    assert names(db, "  INTERFACES   for ") == ["zope.interface"]


@pytest.mark.parametrize("text", ["%", "_", "/", "%_/"])
def test_like_metacharacters_are_literal(db: Session, make: Factory, text: str) -> None:
    make.package("plain", summary="nothing special")
    make.package("special", summary=f"has {text} in it")

    assert names(db, text) == ["special"]


def test_packages_without_a_summary_can_be_found(db: Session, make: Factory) -> None:
    make.package("bare", summary=None)
    assert names(db, "bare") == ["bare"]
    assert names(db, "missing") == []


def test_pages_and_total(db: Session, make: Factory) -> None:
    for n in range(7):
        make.package(f"item-{n}")

    page = search.search(db, "item", 2, 3)

    assert page.total == 7
    assert page.count == 3
    assert [package.name for package in page.items] == ["item-3", "item-4", "item-5"]
    with pytest.raises(PageOutOfRange):
        search.search(db, "item", 4, 3)


def test_blank_text_is_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="empty"):
        search.search_query("   ")
