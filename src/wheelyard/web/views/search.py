"""``/search?q=``: full-text project search, best match first, narrowed by filters.

Filters, as PyPI spells them: ``license=MIT``, ``language=Python+3`` and any number of
``c=<trove classifier>``; the order with ``o=`` as PyPI's: empty for relevance, ``-created``
for the newest releases first, ``-downloads`` for the most downloaded. With a filter the
query may be empty: the page then lists every project that passes the filters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.http.project_reader import readable_private, reader_in_thread
from wheelyard.http.transaction import transaction
from wheelyard.services import urls
from wheelyard.services.access import visibility
from wheelyard.services.discovery import search
from wheelyard.services.discovery.pagination import InvalidPage, PageOutOfRange, parse_page
from wheelyard.services.projects import packages
from wheelyard.web.templating import render

# More than anyone ticks; a longer list is a crafted URL, not a search.
MAX_CLASSIFIER_FILTERS = 10
_ORDERS = frozenset(order.value for order in search.Order)
# The sort menu, in the order it lists them.
SORT_LABELS = (
    (search.Order.RELEVANCE, "Relevance"),
    (search.Order.NEWEST, "Date last updated"),
    (search.Order.DOWNLOADS, "Downloads (last 30 days)"),
)


@dataclass(frozen=True)
class SearchRequest:
    """The search form as submitted: the query text, the filters and the page asked for."""

    query: str
    raw_page: str | None
    license: str = ""
    language: str = ""
    classifiers: tuple[str, ...] = ()
    order: str = ""

    @classmethod
    def from_request(cls, request: Request) -> SearchRequest:
        params = request.query_params
        return cls(
            query=params.get("q", "").strip(),
            raw_page=params.get("page"),
            license=params.get("license", "").strip(),
            language=params.get("language", "").strip(),
            classifiers=tuple(dict.fromkeys(c.strip() for c in params.getlist("c") if c.strip())),
            order=params.get("o", "").strip(),
        )

    def validate(self) -> str | None:
        """Why this search cannot run, or None when it can."""
        if len(self.query) > search.MAX_QUERY_LENGTH:
            return (
                f"Search terms can be at most {search.MAX_QUERY_LENGTH} characters long; "
                f"yours has {len(self.query):,}."
            )
        # Never a character anyone searches for, and PostgreSQL refuses it in text.
        if "\x00" in self.query:
            return "Search terms cannot contain NUL characters."
        if len(self.classifiers) > MAX_CLASSIFIER_FILTERS:
            return f"At most {MAX_CLASSIFIER_FILTERS} classifiers can be combined."
        for value in (self.license, self.language, *self.classifiers):
            if len(value) > search.MAX_FILTER_LENGTH:
                return f"Filters can be at most {search.MAX_FILTER_LENGTH} characters long."
            if "\x00" in value:
                return "Filters cannot contain NUL characters."
        if self.order not in _ORDERS:
            known = ", ".join(repr(order.value) for order in search.Order)
            return f"Unknown sort order {self.order[:50]!r}; use one of {known}."
        try:
            parse_page(self.raw_page)
        except InvalidPage as error:
            return str(error)
        return None

    @property
    def page(self) -> int:
        return parse_page(self.raw_page)

    @property
    def sort(self) -> search.Order:
        return search.Order(self.order)

    @property
    def filters(self) -> search.Filters:
        return search.Filters(
            license=self.license or None,
            language=self.language or None,
            classifiers=self.classifiers,
        )

    def url(self, page: int = 1) -> str:
        """This search's address; the query first, as ``urls.search_url`` writes it."""
        params: list[tuple[str, str]] = [("q", self.query)] if self.query else []
        if self.license:
            params.append(("license", self.license))
        if self.language:
            params.append(("language", self.language))
        params.extend(("c", classifier) for classifier in self.classifiers)
        if self.order:
            params.append(("o", self.order))
        if page > 1:
            params.append(("page", str(page)))
        encoded = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
        return f"/search?{encoded}" if encoded else "/search"

    def page_url_prefix(self) -> str:
        base = self.url()
        return f"{base}{'&' if '?' in base else '?'}page="

    def with_license(self, license_id: str) -> str:
        return replace(self, license=license_id).url()

    def with_language(self, language_id: str) -> str:
        return replace(self, language=language_id).url()

    def without_license(self) -> str:
        return replace(self, license="").url()

    def without_language(self) -> str:
        return replace(self, language="").url()

    def without_classifier(self, classifier: str) -> str:
        kept = tuple(c for c in self.classifiers if c != classifier)
        return replace(self, classifiers=kept).url()


def search_page(request: Request) -> Response:
    form = SearchRequest.from_request(request)
    error = form.validate()
    if error is not None:
        # The form comes back with the message, so the user can fix the query in place.
        shown = form.query.replace("\x00", "")[: search.MAX_QUERY_LENGTH]
        return render(
            request, "search/results.html", status_code=400, query=shown, error=error, urls=urls
        )
    if not form.query and not form.filters.active:
        return render(request, "search/results.html", query="", results=None, urls=urls)
    settings: Settings = request.app.state.settings
    with transaction(request) as db:
        try:
            results = search.search(
                db,
                form.query,
                form.page,
                settings.page_size,
                form.filters,
                hidden=_hidden(request, db),
                order=form.sort,
            )
        except PageOutOfRange as error:
            raise HTTPException(404, str(error)) from error
        summaries = packages.summarize(db, results.page.items)
    return render(
        request,
        "search/results.html",
        query=form.query,
        form=form,
        results=results.page,
        capped=results.capped,
        window=search.RESULT_WINDOW,
        license_facets=results.licenses,
        language_facets=results.languages,
        summaries=summaries,
        page_url_prefix=form.page_url_prefix(),
        sort_labels=SORT_LABELS,
        urls=urls,
    )


def _hidden(request: Request, db: Session) -> frozenset[str]:
    """The private projects this reader may not find."""
    # Marks the page as this reader's alone when they may find private projects.
    readable_private(request, db)
    return visibility.hidden_from(db, reader_in_thread(request))


routes: list[BaseRoute] = [Route("/search", search_page, name="search")]
