"""Pages of query results: parsing a page number and fetching one page with the total."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

T = TypeVar("T")

# Longer than any real page number; stops int() from chewing on a pasted essay.
_MAX_PAGE_DIGITS = 12


class InvalidPage(ValueError):
    """The page parameter is not a page number at all (a 400, not a 404)."""


class PageOutOfRange(LookupError):
    """A well-formed page number past the last page."""

    def __init__(self, number: int, last: int) -> None:
        super().__init__(f"There is no page {number}; the last page is {last}.")
        self.number = number
        self.last = last


def parse_page(raw: str | None) -> int:
    """The page number a ``page`` query parameter asks for; absent or empty means 1."""
    if raw is None or raw == "":
        return 1
    # isdecimal() alone would accept other scripts' digits, and int() accepts "1_000".
    if not (raw.isascii() and raw.isdigit()) or len(raw) > _MAX_PAGE_DIGITS:
        raise InvalidPage("The page must be a whole number such as 1, 2 or 3.")
    number = int(raw)
    if number < 1:
        raise InvalidPage("Page numbers start at 1.")
    return number


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        """How many pages there are; an empty result still has its (empty) first page."""
        return page_count(self.total, self.size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count

    @property
    def first_index(self) -> int:
        """The 1-based position of the first item on this page, for "21-40 of 95"."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def page_count(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def paginate(db: Session, query: sa.Select[T], number: int, size: int) -> Page[T]:
    """One page of ``query``'s first column, counted first so that no huge OFFSET is run.

    Raises PageOutOfRange for a page past the end (page 1 of nothing is a valid, empty page).
    """
    if size < 1:
        raise ValueError("page size must be positive")
    counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = db.scalar(counted) or 0
    last = page_count(total, size)
    if number > last:
        raise PageOutOfRange(number, last)
    items = list(db.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(items=items, number=number, size=size, total=total)
