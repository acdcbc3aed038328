"""Project search by name and summary: plain SQL that runs the same on SQLite and PostgreSQL.

Ranking, best first: the exact (normalized) name, then names starting with the query, then
names containing it, then everything else that matched (every word of the query found in
the name or the summary). Full-text search is a later, separate piece of work.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.naming import normalize_name
from wheelyard.services.pagination import Page, paginate

# Long enough for any project name (200) plus a few words; the view refuses longer queries.
MAX_QUERY_LENGTH = 200

# "/" rather than the usual backslash: backslashes in string literals differ between
# SQLite and PostgreSQL settings, a slash means the same to both.
_ESCAPE = "/"


def _escape_like(text: str) -> str:
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def _contains(column: sa.SQLColumnExpression[str], text: str) -> sa.ColumnElement[bool]:
    return column.like(f"%{_escape_like(text)}%", escape=_ESCAPE)


def _starts_with(column: sa.SQLColumnExpression[str], text: str) -> sa.ColumnElement[bool]:
    return column.like(f"{_escape_like(text)}%", escape=_ESCAPE)


def _lower_name() -> sa.ColumnElement[str]:
    return sa.func.lower(Package.name)


def _name_contains(text: str) -> sa.ColumnElement[bool]:
    # Package.id is the normalized name, so "flask_sql" finds "Flask-SQLAlchemy" too.
    return sa.or_(
        _contains(_lower_name(), text.lower()), _contains(Package.id, normalize_name(text))
    )


def _word_matches(word: str) -> sa.ColumnElement[bool]:
    summary = sa.func.lower(sa.func.coalesce(Package.summary, ""))
    return sa.or_(_name_contains(word), _contains(summary, word.lower()))


def search_query(text: str) -> sa.Select[Package]:
    """The packages matching ``text``, best match first; ``text`` must not be blank."""
    phrase = " ".join(text.split())
    if not phrase:
        raise ValueError("empty search")
    normalized = normalize_name(phrase)
    rank = sa.case(
        (Package.id == normalized, 0),
        (
            sa.or_(
                _starts_with(_lower_name(), phrase.lower()), _starts_with(Package.id, normalized)
            ),
            1,
        ),
        (_name_contains(phrase), 2),
        else_=3,
    )
    matches = sa.or_(
        _name_contains(phrase), sa.and_(*(_word_matches(word) for word in phrase.split()))
    )
    return sa.select(Package).where(matches).order_by(rank, Package.id)


def search(db: Session, text: str, page: int, page_size: int) -> Page[Package]:
    """One page of search results with the total; PageOutOfRange past the last page."""
    return paginate(db, search_query(text), page, page_size)
