"""``/search?q=``: projects by name and summary, best match first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.services import packages, search, urls
from wheelyard.services.pagination import InvalidPage, PageOutOfRange, parse_page
from wheelyard.web.templating import render
from wheelyard.web.transaction import transaction


@dataclass(frozen=True)
class SearchRequest:
    """The search form as submitted: the query text and the page asked for."""

    query: str
    raw_page: str | None

    @classmethod
    def from_request(cls, request: Request) -> SearchRequest:
        params = request.query_params
        return cls(query=params.get("q", "").strip(), raw_page=params.get("page"))

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
        try:
            parse_page(self.raw_page)
        except InvalidPage as error:
            return str(error)
        return None

    @property
    def page(self) -> int:
        return parse_page(self.raw_page)


def search_page(request: Request) -> Response:
    form = SearchRequest.from_request(request)
    error = form.validate()
    if error is not None:
        # The form comes back with the message, so the user can fix the query in place.
        shown = form.query.replace("\x00", "")[: search.MAX_QUERY_LENGTH]
        return render(
            request, "search/results.html", status_code=400, query=shown, error=error, urls=urls
        )
    if not form.query:
        return render(request, "search/results.html", query="", results=None, urls=urls)
    settings: Settings = request.app.state.settings
    with transaction(request) as db:
        try:
            results = search.search(db, form.query, form.page, settings.page_size)
        except PageOutOfRange as error:
            raise HTTPException(404, str(error)) from error
        summaries = packages.summarize(db, results.items)
    return render(
        request,
        "search/results.html",
        query=form.query,
        results=results,
        summaries=summaries,
        page_url_prefix=f"{urls.search_url(form.query)}&page=",
        urls=urls,
    )


routes: list[BaseRoute] = [Route("/search", search_page, name="search")]
