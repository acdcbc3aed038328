"""``/metrics``: what this worker's caches hold and how they serve, in Prometheus's format.

Each worker keeps its own caches, so each scrape answers for the worker that took it, and
every series carries that worker's ``pid``: a counter never seems to jump back when the next
scrape lands on another worker. With ``WHEELYARD_METRICS_TOKEN`` set, a scrape must send it
as a Bearer token (Prometheus's ``authorization`` setting); unset, the endpoint is as open
as the rest of the site.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from wheelyard.config import Settings
from wheelyard.services.index.page_cache import PageCache

PATH = "/metrics"
# Prometheus's text exposition format, version 0.0.4.
MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHALLENGE = 'Bearer realm="wheelyard metrics"'


class CacheCollector(Collector):
    """Reads the page cache's counts at scrape time: nothing is counted twice on the way."""

    def __init__(self, pages: PageCache) -> None:
        self.pages = pages

    def collect(self) -> Iterator[Metric]:
        stats = self.pages.stats()
        worker = [str(os.getpid())]
        gauges = [
            ("wheelyard_page_cache_bytes", "Bytes of rendered pages held", stats.bytes),
            ("wheelyard_page_cache_entries", "Rendered pages held", stats.entries),
            (
                "wheelyard_page_cache_limit_bytes",
                "The bound on the bytes held (WHEELYARD_PAGE_CACHE_BYTES)",
                stats.max_bytes,
            ),
            (
                "wheelyard_served_files_entries",
                "Files whose download details are held",
                len(self.pages.files),
            ),
        ]
        for name, documentation, value in gauges:
            gauge = GaugeMetricFamily(name, documentation, labels=["pid"])
            gauge.add_metric(worker, value)
            yield gauge
        counters = [
            ("wheelyard_page_cache_hits", "Pages served from the cache", stats.hits),
            ("wheelyard_page_cache_misses", "Pages looked for and not held", stats.misses),
        ]
        for name, documentation, value in counters:
            counter = CounterMetricFamily(name, documentation, labels=["pid"])
            counter.add_metric(worker, value)
            yield counter


def registry_for(pages: PageCache) -> CollectorRegistry:
    """A registry of this app's own (the process-wide default would mix apps in tests)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(CacheCollector(pages))
    return registry


def _authorized(request: Request, token: str) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    no_store = {"Cache-Control": "no-store"}
    if settings.metrics_token is not None and not _authorized(request, settings.metrics_token):
        return PlainTextResponse(
            "Unauthorized: send the metrics token (WHEELYARD_METRICS_TOKEN) as a Bearer token.",
            status_code=401,
            headers={"WWW-Authenticate": CHALLENGE, **no_store},
        )
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=MEDIA_TYPE, headers=no_store)


routes: list[BaseRoute] = [Route(PATH, metrics, methods=["GET"])]
