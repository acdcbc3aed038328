"""Project search: full text over name, summary, keywords and README, names first.

Ranking, best first: the exact (normalized) name; names that start with the query; names
that contain it; then projects with all the query's words in their name, summary or keywords;
then those with them in the README only; within each of the last two by text rank (bm25 in
SQLite FTS5, ts_rank on PostgreSQL's tsvector). Name matches are ordered shortest first,
since "flask-wtf" is nearer to "flask" than "flask-appbuilder-extensions" is. READMEs are
indexed without their links (Package.search_text): "http" is not a word of every README.
Order.NEWEST and Order.DOWNLOADS sort the same matches by another key, relevance breaking ties.

Each kind of match is looked up in its own index: the exact name and name prefixes in the
primary key, names containing a one-word query in a trigram index, words in the full-text
index, and words of the name, summary and keywords in an index of those alone. Ranking
every project that mentions a common word would mean scoring hundreds of thousands of rows,
so each lookup stops after RESULT_WINDOW + 1 rows, as PyPI stops counting at "10,000+
projects": past the window the total is shown as a lower bound, the facet counts are of the
projects looked at, and the text matches ranked are the first ones the index yields, while
name matches, then summary and keyword matches, still come first. Below the window
everything is exact.

User input never reaches the query languages as syntax: the query is cut into words (runs of
letters and digits), and only those words, quoted, are handed to FTS5 or plainto_tsquery.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from wheelyard.data.download_count import DownloadCount
from wheelyard.data.package import Package
from wheelyard.data.package_classifier import MAX_CLASSIFIER_LENGTH, PackageClassifier
from wheelyard.data.package_language import PackageLanguage
from wheelyard.services import clock
from wheelyard.services.discovery.pagination import Page, PageOutOfRange, page_count

# Long enough for any project name (200) plus a few words; the view refuses longer queries.
MAX_QUERY_LENGTH = 200
# How many matches of one kind are looked at, at most (see the module docstring). The cost of a
# search for a common word grows with it: at a million projects, 500 keeps page 1 within
# 50 ms on both databases, 1,000 about doubles the part of the time that depends on it.
RESULT_WINDOW = 500
# More words narrow nothing down in practice, and each costs a pass over its index entries.
MAX_WORDS = 16
# Filter values longer than any license, language or classifier stored cannot match.
MAX_FILTER_LENGTH = MAX_CLASSIFIER_LENGTH

# Letters and digits, in any script: what both FTS5's unicode61 and PostgreSQL's parser
# treat as the inside of a word. Everything else separates words and is dropped.
_WORD = re.compile(r"[^\W_]+")

# Words too common to narrow a search. PostgreSQL's english configuration drops these (and
# more) from documents and queries alike; dropping them from SQLite queries too keeps the two
# databases finding the same projects, and spares FTS5 ranking nearly every row for "a".
_STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    }
)

# Column weights: a word in the name counts most, the README least.
_BM25_WEIGHTS = (10.0, 4.0, 4.0, 1.0)  # name, summary, keywords, README
_TS_CONFIG = "english"
# ts_rank normalization 1: divide by 1 + log(length), so a README does not outweigh a summary.
_TS_RANK_NORMALIZATION = 1
# Sorts after every name made of the characters a normalized name can hold.
_PREFIX_END = "\U0010ffff"
_LIKE_ESCAPE = "/"


@dataclass(frozen=True)
class Query:
    """A search as the database sees it: the words to match and the name to look for."""

    words: tuple[str, ...]
    # The words as a normalized project name would spell them: "Flask_Login" -> "flask-login".
    name: str

    @property
    def matches_nothing(self) -> bool:
        return not self.name


def parse_query(text: str) -> Query:
    """The words of ``text``; nothing in it is ever interpreted as query syntax."""
    folded = unicodedata.normalize("NFKC", text).lower()
    all_words = _WORD.findall(folded)
    name = "-".join(all_words)
    words: list[str] = []
    for word in all_words:
        if word not in _STOP_WORDS and word not in words:
            words.append(word)
    return Query(words=tuple(words[:MAX_WORDS]), name=name)


class Order(enum.StrEnum):
    """How results are sorted, as PyPI's ``?o=`` spells it."""

    RELEVANCE = ""
    NEWEST = "-created"
    DOWNLOADS = "-downloads"


# The downloads a "most downloaded" sort counts: those of the last 30 days, mirrors apart.
DOWNLOAD_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """Narrowing by license, language and trove classifiers (all must hold)."""

    license: str | None = None
    language: str | None = None
    # A classifier also selects its children: "Framework :: Django" takes "... :: Django :: 5.0".
    classifiers: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.license or self.language or self.classifiers)

    def _values(self) -> list[str]:
        return [v for v in (self.license, self.language, *self.classifiers) if v is not None]

    @property
    def impossible(self) -> bool:
        """True when a value could never be stored, so nothing can match (and PostgreSQL
        would refuse a NUL in a parameter)."""
        return any(len(v) > MAX_FILTER_LENGTH or "\x00" in v for v in self._values())


@dataclass(frozen=True)
class FacetCount:
    """A license or language among the results, and how many results have it."""

    id: str
    count: int


@dataclass(frozen=True)
class Results:
    page: Page[Package]
    # More projects match than RESULT_WINDOW: page.total is then a lower bound.
    capped: bool
    licenses: Sequence[FacetCount]
    languages: Sequence[FacetCount]


def _escape_like(text: str) -> str:
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def _filter_clauses(filters: Filters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.license:
        clauses.append(Package.license_id == filters.license)
    if filters.language:
        clauses.append(
            sa.exists().where(
                PackageLanguage.package_id == Package.id,
                PackageLanguage.language_id == filters.language,
            )
        )
    for classifier in filters.classifiers:
        clauses.append(
            sa.exists().where(
                PackageClassifier.package_id == Package.id,
                sa.or_(
                    PackageClassifier.classifier == classifier,
                    PackageClassifier.classifier.like(
                        _escape_like(classifier) + " :: %", escape=_LIKE_ESCAPE
                    ),
                ),
            )
        )
    return clauses


# One lookup: rows of (key, score, kind, license_id), the key being the packages rowid on
# SQLite and the id on PostgreSQL; score is higher for better text matches and NULL for name
# matches; kind is the rank of the match before any score: _METADATA for the query's words in
# the name, summary or keywords, _README for the README (or a name lookup: its tier comes
# from the name itself, see _tier).
# PostgreSQL reads each match's row anyway, so its lookups bring the license along; SQLite's
# read only their indexes, and the license is looked up once the matches are known.
_Arm = sa.Select[Any, float | None, int, str | None]

# The tiers below the name tiers (0 exact, 1 prefix, 2 contains): see _tier.
_METADATA = 3
_README = 4


def _unscored() -> tuple[sa.ColumnElement[float | None], sa.ColumnElement[int]]:
    return sa.cast(sa.null(), sa.Float).label("score"), sa.literal(_README).label("kind")


class _Arms:
    """The lookups whose union is the result set, one per index, each cut at the window."""

    def __init__(self, dialect: str, query: Query, filters: Filters) -> None:
        self.sqlite = dialect == "sqlite"
        self.query = query
        self.filters = _filter_clauses(filters)
        # rowid saves SQLite a primary-key lookup per match: every index below holds it.
        self.key: sa.ColumnElement[Any] = (
            sa.literal_column("packages.rowid") if self.sqlite else Package.__table__.c.id
        )
        self.license: sa.ColumnElement[Any] = (
            sa.cast(sa.null(), sa.String) if self.sqlite else Package.__table__.c.license_id
        ).label("license_id")

    def all(self) -> list[_Arm]:
        name = self.query.name
        if not name:
            return [self._browse()]
        # The exact name on its own: the other lookups may stop before reaching it.
        arms = [self._exact()]
        if len(name) >= 3 and "-" not in name:
            # One word long enough for the trigram index: the names containing it, those
            # starting with it among them.
            arms.append(self._name_contains())
        else:
            # Trigrams need three characters (and two would match half the names anyway); a
            # name of several words ("flask-login") is found through its words by the text
            # lookup, and ranked as a name match all the same.
            arms.append(self._name_prefix())
        if self.query.words:
            # The name, summary and keywords on their own: a common word fills the window of
            # the lookup over all the text with README matches, and these must not be lost.
            arms.append(self._text(metadata_only=True))
            arms.append(self._text())
        return arms

    @staticmethod
    def _window(select: _Arm) -> _Arm:
        # As a subquery, so that each arm's LIMIT stays its own inside the UNION.
        inner = select.limit(RESULT_WINDOW + 1).subquery()
        return sa.select(inner.c.key, inner.c.score, inner.c.kind, inner.c.license_id)

    def _passes_filters(self, rowid: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        """The filters, for a SQLite lookup in an FTS5 table: a correlated EXISTS keeps the
        FTS5 table the outer loop, where a join could let the planner scan every project and
        probe the index once for each."""
        if not self.filters:
            return []
        passing = (
            sa.select(sa.literal(1)).select_from(Package).where(self.key == rowid, *self.filters)
        )
        return [passing.exists()]

    def _browse(self) -> _Arm:
        # Only filters, no words: every project that passes them, by name.
        return self._window(
            sa.select(self.key.label("key"), *_unscored(), self.license)
            .select_from(Package)
            .where(*self.filters)
            .order_by(Package.id)
        )

    def _exact(self) -> _Arm:
        return self._window(
            sa.select(self.key.label("key"), *_unscored(), self.license)
            .select_from(Package)
            .where(Package.id == self.query.name, *self.filters)
        )

    def _name_prefix(self) -> _Arm:
        name = self.query.name
        if self.sqlite:
            condition: sa.ColumnElement[bool] = sa.and_(
                Package.id >= name, Package.id < name + _PREFIX_END
            )
        else:
            # The trigram index answers prefixes too, where a range on the primary key would
            # depend on the collation ordering "-" next to letters.
            condition = Package.id.like(f"{name}%")
        return self._window(
            sa.select(self.key.label("key"), *_unscored(), self.license)
            .select_from(Package)
            .where(condition, *self.filters)
        )

    def _name_contains(self) -> _Arm:
        # The name is letters, digits and "-" only (see parse_query): nothing to escape.
        pattern = f"%{self.query.name}%"
        if not self.sqlite:
            return self._window(
                sa.select(Package.id.label("key"), *_unscored(), self.license).where(
                    Package.id.like(pattern), *self.filters
                )
            )
        names = sa.table("packages_name_fts", sa.column("rowid"), sa.column("id"))
        return self._window(
            sa.select(names.c.rowid.label("key"), *_unscored(), self.license).where(
                names.c.id.like(pattern), *self._passes_filters(names.c.rowid)
            )
        )

    def _text(self, *, metadata_only: bool = False) -> _Arm:
        """Projects with every word in their text; with ``metadata_only``, in their name,
        summary or keywords, from the index of those alone (migration 0022)."""
        kind = sa.literal(_METADATA if metadata_only else _README).label("kind")
        if not self.sqlite:
            column = "packages.search_metadata" if metadata_only else "packages.search_vector"
            vector: sa.ColumnElement[Any] = sa.literal_column(column)
            tsquery = sa.func.plainto_tsquery(
                sa.cast(sa.literal(_TS_CONFIG), REGCONFIG), " ".join(self.query.words)
            )
            score = sa.func.ts_rank(vector, tsquery, _TS_RANK_NORMALIZATION).label("score")
            return self._window(
                sa.select(Package.id.label("key"), score, kind, self.license).where(
                    vector.op("@@")(tsquery), *self.filters
                )
            )
        # Each word a quoted string: FTS5 then reads AND, OR, NEAR, "*", ":" and "^" as text.
        fts_query = " ".join('"' + word.replace('"', '""') + '"' for word in self.query.words)
        name = "packages_metadata_fts" if metadata_only else "packages_fts"
        fts = sa.table(name, sa.column("rowid"))
        table: sa.ColumnElement[Any] = sa.literal_column(name)
        bm25_weights = _BM25_WEIGHTS[:3] if metadata_only else _BM25_WEIGHTS
        # bm25 is lower for better matches; negated, so that higher is better on both databases.
        score = (-sa.func.bm25(table, *bm25_weights)).label("score")
        return self._window(
            sa.select(fts.c.rowid.label("key"), score, kind, self.license).where(
                table.match(fts_query), *self._passes_filters(fts.c.rowid)
            )
        )


def _tier(
    name: sa.ColumnElement[str], kind: sa.ColumnElement[int], query_name: str
) -> sa.ColumnElement[int]:
    """0 the exact name, 1 a name starting with the query, 2 a name containing it, then
    _METADATA (the words in the name, summary or keywords) and _README (the README only)."""
    if not query_name:
        return kind
    return sa.case(
        (name == query_name, 0),
        (name.like(f"{query_name}%"), 1),
        (name.like(f"%{query_name}%"), 2),
        else_=kind,
    )


def search(
    db: Session,
    text: str,
    page: int,
    page_size: int,
    filters: Filters | None = None,
    *,
    facets: bool = True,
    hidden: frozenset[str] = frozenset(),
    order: Order = Order.RELEVANCE,
    today: dt.date | None = None,
) -> Results:
    """One page of the projects matching ``text`` and ``filters``, best first.

    ``hidden`` names projects left out of the results, the total and the facet counts (the
    private projects the reader may not see).
    ``text`` may be blank only when a filter is given (then every project passing the
    filters is listed, by name). Raises PageOutOfRange past the last page.
    ``order`` sorts the matches (best first, newest release first, or most downloads in the
    DOWNLOAD_DAYS days up to ``today``, the clock's today unless given); ties go by relevance.
    """
    filters = filters or Filters()
    if not text.strip() and not filters.active:
        raise ValueError("empty search")
    if page_size < 1:
        raise ValueError("page size must be positive")
    query = parse_query(text)
    if (text.strip() and query.matches_nothing) or filters.impossible:
        return _nothing(page, page_size)

    arms = _Arms(db.get_bind().dialect.name, query, filters)
    if not arms.sqlite:
        # psycopg prepares a statement run five times, and PostgreSQL may then plan it once for
        # any words, blind to how common they are: a plan good for a rare word scans the table
        # for a common one. Planned afresh each time, it stays a few milliseconds. SET LOCAL:
        # for this transaction only.
        db.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # Every lookup runs once, in one statement: the total, the facets and the page's ids all
    # come from the same matches.
    since = (today or clock.today()) - dt.timedelta(days=DOWNLOAD_DAYS - 1)
    statement = _summary(_found(arms, hidden), query, page, page_size, facets, _Sort(order, since))
    matched = 0
    positions: dict[str, int] = {}
    counts: dict[str, list[FacetCount]] = {"license": [], "language": []}
    for kind, value, number in db.execute(statement):
        if kind == "total":
            matched = number
        elif value is None:
            continue
        elif kind == "item":
            positions[value] = number
        else:
            counts[kind].append(FacetCount(value, number))

    total = min(matched, RESULT_WINDOW)
    last = page_count(total, page_size)
    if page > last:
        raise PageOutOfRange(page, last)
    for facet in counts.values():
        facet.sort(key=lambda item: (-item.count, item.id))
    rows: Iterable[Package] = (
        db.scalars(sa.select(Package).where(Package.id.in_(list(positions)))) if positions else []
    )
    items = sorted(rows, key=lambda package: positions[package.id])
    return Results(
        Page(items=items, number=page, size=page_size, total=total),
        capped=matched > RESULT_WINDOW,
        licenses=counts["license"],
        languages=counts["language"],
    )


def _found(arms: _Arms, hidden: frozenset[str]) -> sa.CTE:
    """Every project found, once, with its best score, its id and its license."""
    union = sa.union_all(*arms.all()).subquery("matches")
    best = (
        sa.select(
            union.c.key,
            # A metadata match is ranked by its metadata lookup's score.
            sa.func.coalesce(
                sa.func.max(sa.case((union.c.kind == _METADATA, union.c.score))),
                sa.func.max(union.c.score),
            ).label("score"),
            sa.func.min(union.c.kind).label("kind"),
            sa.func.max(union.c.license_id).label("license_id"),
        )
        .group_by(union.c.key)
        .subquery("best")
    )
    rows: sa.Select[float | None, int, str, str | None] = (
        sa.select(best.c.score, best.c.kind, Package.id, Package.license_id)
        .select_from(best)
        .join(Package, arms.key == best.c.key)
        if arms.sqlite
        else sa.select(best.c.score, best.c.kind, best.c.key.label("id"), best.c.license_id)
    )
    if hidden:
        # Left out of the matches themselves: of the total and the facets as well as the page.
        found_id = Package.id if arms.sqlite else best.c.key
        rows = rows.where(found_id.not_in(sorted(hidden)))
    # Materialized: read by every part of the summary, computed once.
    return rows.cte("found").prefix_with("MATERIALIZED")


@dataclass(frozen=True)
class _Sort:
    order: Order
    # The first day of the downloads counted for Order.DOWNLOADS.
    since: dt.date


def _ranked(found: sa.CTE, query: Query, sort: _Sort) -> sa.Subquery:
    """The found projects' ids and their positions in the order asked for."""
    tier = _tier(found.c.id, found.c.kind, query.name)
    relevance: list[sa.ColumnElement[Any]] = [
        tier,
        # Nearest name first: the shorter of two names containing the query.
        sa.case((tier < _METADATA, sa.func.length(found.c.id)), else_=0),
        sa.desc(found.c.score).nulls_last(),
        found.c.id,
    ]
    select = sa.select(found.c.id).select_from(found)
    first: list[sa.ColumnElement[Any]] = []
    if sort.order is Order.NEWEST:
        # Only the projects found are read: one primary-key lookup each.
        select = select.join(Package, Package.id == found.c.id)
        first = [sa.desc(sa.func.coalesce(Package.last_updated, Package.created_date))]
    elif sort.order is Order.DOWNLOADS:
        # Each found project's days since ``since``: a range of the primary key each.
        downloads = (
            sa.select(
                DownloadCount.package_id, sa.func.sum(DownloadCount.downloads).label("downloads")
            )
            .where(
                DownloadCount.package_id.in_(sa.select(found.c.id)),
                DownloadCount.day >= sort.since,
                DownloadCount.is_mirror.is_(False),
            )
            .group_by(DownloadCount.package_id)
            .subquery("downloads")
        )
        select = select.outerjoin(downloads, downloads.c.package_id == found.c.id)
        first = [sa.desc(sa.func.coalesce(downloads.c.downloads, 0))]
    position = sa.func.row_number().over(order_by=(*first, *relevance))
    return select.add_columns(position.label("position")).subquery("ranked")


def _summary(
    found: sa.CTE, query: Query, page: int, page_size: int, facets: bool, sort: _Sort
) -> sa.CompoundSelect[str, str | None, int]:
    """Rows of (kind, value, number): ("total", None, how many were found), ("item", id,
    position) for the page asked for, and ("license"/"language", id, count) for the facets."""
    ranked = _ranked(found, query, sort)
    first = (page - 1) * page_size
    count = sa.func.count()
    parts: list[sa.Select[str, str | None, int]] = [
        sa.select(sa.literal("total"), sa.cast(sa.null(), sa.String), count).select_from(found),
        sa.select(sa.literal("item"), ranked.c.id, ranked.c.position).where(
            ranked.c.position > first,
            ranked.c.position <= min(first + page_size, RESULT_WINDOW),
        ),
    ]
    if facets:
        parts.append(
            sa.select(sa.literal("license"), found.c.license_id, count).group_by(found.c.license_id)
        )
        parts.append(
            sa.select(sa.literal("language"), PackageLanguage.language_id, count)
            .select_from(found)
            .join(PackageLanguage, PackageLanguage.package_id == found.c.id)
            .group_by(PackageLanguage.language_id)
        )
    return sa.union_all(*parts)


def _nothing(page: int, page_size: int) -> Results:
    if page > 1:
        raise PageOutOfRange(page, 1)
    return Results(Page(items=[], number=1, size=page_size, total=0), False, (), ())
