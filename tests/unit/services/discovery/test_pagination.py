"""services.discovery.pagination: page numbers from users, and pages of query results."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.package import Package
from wheelyard.services.discovery.pagination import (
    InvalidPage,
    Page,
    PageOutOfRange,
    page_count,
    paginate,
    parse_page,
)


@pytest.mark.parametrize(
    ("raw", "number"), [(None, 1), ("", 1), ("1", 1), ("007", 7), ("999999", 999999)]
)
def test_parse_page(raw: str | None, number: int) -> None:
    assert parse_page(raw) == number


@pytest.mark.parametrize(
    "raw",
    ["0", "-1", "abc", "1.5", " 2", "+2", "1_000", "\uff12", "\u0662", "9" * 13, "9" * 10_000],
)
def test_parse_page_refuses_what_is_not_a_page_number(raw: str) -> None:
    with pytest.raises(InvalidPage):
        parse_page(raw)


@pytest.mark.parametrize(("total", "count"), [(0, 1), (1, 1), (20, 1), (21, 2), (40, 2), (41, 3)])
def test_page_count(total: int, count: int) -> None:
    assert page_count(total, 20) == count


def test_page_positions() -> None:
    page = Page(items=["u", "v"], number=3, size=5, total=12)
    assert (page.first_index, page.last_index) == (11, 12)
    assert page.has_previous
    assert not page.has_next
    assert Page(items=[], number=1, size=5, total=0).first_index == 0


def test_paginate_counts_and_slices(db: Session, make: Factory) -> None:
    for n in range(5):
        make.package(f"p{n}")
    query = sa.select(Package).order_by(Package.id.desc())

    page = paginate(db, query, 2, 2)

    assert [package.id for package in page.items] == ["p2", "p1"]
    assert (page.total, page.count, page.has_previous, page.has_next) == (5, 3, True, True)


def test_paginate_past_the_end(db: Session, make: Factory) -> None:
    make.package("only")
    with pytest.raises(PageOutOfRange) as raised:
        paginate(db, sa.select(Package), 10**12, 20)
    assert raised.value.last == 1
    assert "the last page is 1" in str(raised.value)


def test_paginate_nothing_gives_an_empty_first_page(db: Session) -> None:
    page = paginate(db, sa.select(Package), 1, 20)
    assert (list(page.items), page.total, page.count) == ([], 0, 1)
