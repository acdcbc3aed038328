"""services.discovery.search: full-text matching, ranking, filters, facets and the index's upkeep.

Every test runs on SQLite (FTS5) and, with WHEELYARD_TEST_POSTGRES_URL set, on PostgreSQL
(tsvector): the same expectations hold on both.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.package import Package
from wheelyard.services.discovery import search
from wheelyard.services.discovery.pagination import PageOutOfRange
from wheelyard.services.ops import schema
from wheelyard.services.projects import classifiers


def names(
    db: Session,
    text: str,
    page: int = 1,
    size: int = 50,
    filters: search.Filters | None = None,
) -> list[str]:
    return [package.name for package in search.search(db, text, page, size, filters).page.items]


@pytest.fixture
def projects(make: Factory) -> None:
    make.package("Django", summary="The web framework for perfectionists")
    make.package("django-rest-framework", summary="Web APIs for Django")
    make.package("my_django_tools", summary="Tools")
    make.package("flask", summary="A micro framework; works with django-style apps")
    make.package(
        "readme-only",
        summary="Something else entirely",
        description="Mentions django once, deep in the README.",
    )
    make.package("zope.interface", summary="Interfaces for Python")


# --- ranking -------------------------------------------------------------------------------


def test_exact_name_then_name_matches_then_summary_then_description(
    db: Session, projects: None
) -> None:
    assert names(db, "django") == [
        "Django",  # the exact name
        "django-rest-framework",  # the name starts with it
        "my_django_tools",  # the name contains it
        "flask",  # a word of the summary
        "readme-only",  # a word of the README only
    ]


def test_exact_match_uses_the_normalized_name(db: Session, projects: None) -> None:
    assert names(db, "Zope_Interface") == ["zope.interface"]
    assert names(db, "my-django-tools")[0] == "my_django_tools"
    assert names(db, "  DJANGO  ")[0] == "Django"


def test_prefix_on_the_normalized_name(db: Session, projects: None) -> None:
    assert names(db, "django_rest") == ["django-rest-framework"]


def test_name_matches_come_shortest_first(db: Session, make: Factory) -> None:
    make.package("flask-sqlalchemy", summary="Adds SQLAlchemy to Flask")
    make.package("flask-wtf", summary="Forms")
    make.package("flask-login", summary="Sessions")
    make.package("pytest-flask", summary="Fixtures")
    make.package("quart", summary="Like flask, but async")
    make.package("flask", summary="The micro framework")

    assert names(db, "flask") == [
        "flask",
        "flask-wtf",
        "flask-login",
        "flask-sqlalchemy",
        "pytest-flask",
        "quart",
    ]


def test_a_name_is_found_by_any_part_of_it(db: Session, make: Factory) -> None:
    make.package("sqlalchemy", summary="The database toolkit")
    make.package("flask-sqlalchemy", summary="Adds it to Flask")
    make.package("alchemist", summary="Unrelated")

    # Not a word of either name: found through the trigram index on names.
    assert names(db, "alchemy") == ["sqlalchemy", "flask-sqlalchemy"]
    assert names(db, "sqlalch") == ["sqlalchemy", "flask-sqlalchemy"]


def test_text_matches_are_ranked_by_relevance(db: Session, make: Factory) -> None:
    make.package("aaa-readme", summary="Nothing", description="One line about parsers.")
    make.package("bbb-summary", summary="A parser for config files")
    make.package("ccc-keywords", summary="Nothing either")
    db.execute(
        sa.update(Package).where(Package.id == "ccc-keywords").values(keywords="parser,config")
    )

    ranked = names(db, "parser")

    # Summary and keywords weigh more than the README, whatever the alphabet says.
    assert set(ranked[:2]) == {"bbb-summary", "ccc-keywords"}
    assert ranked[2] == "aaa-readme"


def test_every_word_must_match_somewhere(db: Session, projects: None) -> None:
    assert set(names(db, "web framework")) == {"Django", "django-rest-framework"}
    assert names(db, "framework micro") == ["flask"]
    assert names(db, "framework nonsense") == []


def test_words_are_stemmed_and_folded(db: Session, projects: None, make: Factory) -> None:
    make.package("cafe-tools", summary="Tools for the café")

    assert set(names(db, "frameworks")) >= {"Django", "flask"}
    assert names(db, "CAFE") == ["cafe-tools"]
    assert names(db, "café") == ["cafe-tools"]


def test_case_and_surrounding_space_do_not_matter(db: Session, projects: None) -> None:
    assert names(db, "  INTERFACES   for ") == ["zope.interface"]


def test_keywords_are_searched(db: Session, make: Factory) -> None:
    package = make.package("tagged", summary="No words of note")
    package.keywords = "orchestration,scheduling"
    db.flush()

    assert names(db, "orchestration") == ["tagged"]


def test_packages_without_summary_or_description_can_be_found(db: Session, make: Factory) -> None:
    make.package("bare", summary=None, description=None)
    assert names(db, "bare") == ["bare"]
    assert names(db, "missing") == []


# --- hostile input -------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"flask',
    'flask"',
    "*",
    "fla*",
    "AND",
    "flask AND",
    "OR NOT",
    "NEAR(flask django)",
    ":",
    "name:flask",
    "{name}: flask",
    "(",
    "(flask",
    ")",
    "^flask",
    "-flask",
    "+flask",
    "flask & !django | <->",
    "'",
    "';--",
    "\\",
    "%",
    "_",
    "%_/",
    "[a-z]",
    "ünïcödé",
    "日本語のパッケージ",
    "😀 flask",
    "\u200b",
    "\u0301",
    "x" * 200,
    " ".join("abcdefghijklmnopqrstuvwxyz" * 3)[:200],
    "and the of for",
    "flask " * 33,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_fail(db: Session, projects: None, text: str) -> None:
    results = search.search(db, text, 1, 20)
    assert results.page.total == len(results.page.items)


def test_query_syntax_is_read_as_words(db: Session, projects: None) -> None:
    assert names(db, 'flask"')[0] == "flask"
    assert names(db, "flask*") == ["flask"]
    assert names(db, "(framework AND micro)") == ["flask"]
    assert names(db, "name:micro") == []  # both words must be there
    assert names(db, "%") == []
    assert names(db, "***") == []


def test_parse_query_keeps_only_words() -> None:
    query = search.parse_query('  "Flask_Login" AND the *WTF*: ﬁles ')

    # Stop words go from the text search but stay in the name; ligatures fold (NFKC).
    assert query.words == ("flask", "login", "wtf", "files")
    assert query.name == "flask-login-and-the-wtf-files"
    assert search.parse_query("%%%").matches_nothing
    assert len(search.parse_query(" ".join(f"w{n}" for n in range(50))).words) == (search.MAX_WORDS)


# --- filters and facets --------------------------------------------------------------------


@pytest.fixture
def filtered(make: Factory, db: Session) -> None:
    mit, apache = make.license("MIT"), make.license("Apache-2.0")
    py3, cython = make.language("Python 3"), make.language("Cython")
    django = make.package("web-one", summary="web tools", license=mit, languages=(py3,))
    make.package("web-two", summary="web tools", license=apache, languages=(py3, cython))
    flask = make.package("web-three", summary="web tools", license=mit, languages=(cython,))
    make.package("web-four", summary="web tools")
    make.package("other", summary="unrelated", license=mit, languages=(py3,))
    classifiers.set_classifiers(
        db, django, ["Framework :: Django", "Framework :: Django :: 5.0", "Typing :: Typed"]
    )
    classifiers.set_classifiers(db, flask, ["Framework :: Flask"])
    db.flush()


def test_filter_by_license(db: Session, filtered: None) -> None:
    assert names(db, "web", filters=search.Filters(license="MIT")) == ["web-one", "web-three"]


def test_filter_by_language(db: Session, filtered: None) -> None:
    assert names(db, "web", filters=search.Filters(language="Cython")) == [
        "web-two",
        "web-three",
    ]


def test_filter_by_classifier_takes_its_children(db: Session, filtered: None) -> None:
    def by(*classifiers: str) -> list[str]:
        return names(db, "web", filters=search.Filters(classifiers=classifiers))

    assert by("Framework :: Django :: 5.0") == ["web-one"]
    assert by("Framework :: Django") == ["web-one"]
    assert by("Framework") == ["web-one", "web-three"]
    # "Framework :: Dj" is not a classifier above "Framework :: Django".
    assert by("Framework :: Dj") == []
    # Every classifier must hold.
    assert by("Framework", "Typing :: Typed") == ["web-one"]


def test_filters_combine(db: Session, filtered: None) -> None:
    both = search.Filters(license="MIT", language="Python 3")
    assert names(db, "web", filters=both) == ["web-one"]
    assert names(db, "web", filters=search.Filters(license="Nope")) == []


@pytest.mark.parametrize(
    "filters",
    [
        search.Filters(license="MIT\x00"),
        search.Filters(language="x" * 1000),
        search.Filters(classifiers=("Framework\x00",)),
    ],
)
def test_impossible_filters_match_nothing(
    db: Session, filtered: None, filters: search.Filters
) -> None:
    assert names(db, "web", filters=filters) == []


def test_filters_without_words_list_every_passing_project_by_name(
    db: Session, filtered: None
) -> None:
    assert names(db, "", filters=search.Filters(license="MIT")) == [
        "other",
        "web-one",
        "web-three",
    ]
    assert names(db, "  ", filters=search.Filters(classifiers=("Framework",))) == [
        "web-one",
        "web-three",
    ]


def test_facets_count_the_results(db: Session, filtered: None) -> None:
    results = search.search(db, "web", 1, 2)

    assert results.page.total == 4
    assert results.licenses == [search.FacetCount("MIT", 2), search.FacetCount("Apache-2.0", 1)]
    assert results.languages == [
        search.FacetCount("Cython", 2),
        search.FacetCount("Python 3", 2),
    ]


def test_facets_follow_the_filters(db: Session, filtered: None) -> None:
    results = search.search(db, "web", 1, 20, search.Filters(language="Cython"))
    assert results.licenses == [search.FacetCount("Apache-2.0", 1), search.FacetCount("MIT", 1)]
    assert not search.search(db, "web", 1, 20, facets=False).licenses


# --- keeping the index in step -------------------------------------------------------------


def check_sqlite_index(db: Session) -> None:
    """FTS5's own check that an external-content index matches its table (SQLite only)."""
    if db.get_bind().dialect.name == "sqlite":
        for check in (
            "INSERT INTO packages_fts (packages_fts, rank) VALUES ('integrity-check', 1)",
            "INSERT INTO packages_name_fts (packages_name_fts, rank) VALUES ('integrity-check', 1)",
        ):
            db.execute(sa.text(check))


def test_updates_reach_the_index(db: Session, make: Factory) -> None:
    package = make.package("mutable", summary="Reads barcodes")
    assert names(db, "barcodes") == ["mutable"]

    package.summary = "Writes spreadsheets"
    package.description = "Also reads invoices."
    db.flush()

    assert names(db, "barcodes") == []
    assert names(db, "spreadsheets") == ["mutable"]
    assert names(db, "invoices") == ["mutable"]
    check_sqlite_index(db)


def test_unindexed_updates_leave_the_index_alone(db: Session, make: Factory) -> None:
    package = make.package("steady", summary="Counts sheep")
    package.last_serial = 42
    package.home_page = "https://example.com"
    db.flush()

    assert names(db, "sheep") == ["steady"]
    check_sqlite_index(db)


def test_deletes_reach_the_index(db: Session, make: Factory) -> None:
    make.package("short-lived", summary="Vanishing ink", versions=())
    make.package("survivor", summary="Permanent ink", versions=())
    db.execute(sa.delete(Package).where(Package.id == "short-lived"))

    assert names(db, "ink") == ["survivor"]
    assert names(db, "short-lived") == []
    check_sqlite_index(db)


def test_renames_reach_the_name_index(db: Session, make: Factory) -> None:
    make.package("oldname-tool", summary="Does things", versions=())
    db.execute(
        sa.update(Package)
        .where(Package.id == "oldname-tool")
        .values(id="newname-tool", name="newname-tool")
    )

    assert names(db, "ewname") == ["newname-tool"]
    assert names(db, "ldname") == []
    check_sqlite_index(db)


def test_the_migration_indexes_existing_projects_and_downgrades(
    connection: sa.Connection,
) -> None:
    # All inside the test's transaction, which is rolled back: DDL is transactional on both.
    config = schema.alembic_config(connection)
    command.downgrade(config, "0002")
    tables = sa.inspect(connection).get_table_names()
    assert "package_classifiers" not in tables
    assert not [table for table in tables if table.startswith("packages_fts")]
    if connection.dialect.name == "postgresql":
        columns = {column["name"] for column in sa.inspect(connection).get_columns("packages")}
        assert "search_vector" not in columns
    connection.execute(
        sa.text("INSERT INTO packages (id, name, summary) VALUES ('old-timer', 'old-timer', :s)"),
        {"s": "Indexed by the migration"},
    )

    command.upgrade(config, "head")

    with Session(bind=connection, join_transaction_mode="create_savepoint") as db:
        assert names(db, "migration") == ["old-timer"]
        assert names(db, "timer") == ["old-timer"]
        check_sqlite_index(db)


# --- pages ---------------------------------------------------------------------------------


def test_pages_and_total(db: Session, make: Factory) -> None:
    for n in range(7):
        make.package(f"item-{n}")

    results = search.search(db, "item", 2, 3)

    assert results.page.total == 7
    assert not results.capped
    assert results.page.count == 3
    assert [package.name for package in results.page.items] == ["item-3", "item-4", "item-5"]
    with pytest.raises(PageOutOfRange):
        search.search(db, "item", 4, 3)


def test_no_match_is_one_empty_page(db: Session, projects: None) -> None:
    assert search.search(db, "nothing-like-this", 1, 20).page.total == 0
    assert search.search(db, "%", 1, 20).page.total == 0
    with pytest.raises(PageOutOfRange):
        search.search(db, "%", 2, 20)


def test_past_the_window_the_total_is_a_lower_bound(
    db: Session, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RESULT_WINDOW", 5)
    for n in range(8):
        make.package(f"gadget-{n}", summary="a common word")
    make.package("common", summary="the exact name, added last")

    results = search.search(db, "common", 1, 3)

    assert results.capped
    assert results.page.total == 5
    assert results.page.count == 2
    # The exact name is found through its own index, whatever the window holds.
    assert results.page.items[0].name == "common"
    with pytest.raises(PageOutOfRange):
        search.search(db, "common", 3, 3)


def test_blank_text_without_filters_is_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="empty"):
        search.search(db, "   ", 1, 20)
