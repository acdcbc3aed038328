"""The remembered-reader lane of a private site: which requests skip the session layers."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Receive, Scope, Send

from wheelyard.http.private_site import READER_ID, RememberedReaderLane
from wheelyard.services.access.readers import RememberedReaders

CREDENTIALS = b"Basic X190b2tlbl9fOnNlY3JldA=="


class Recorder:
    """The inner app and the cached answer, noting which of them each request reached."""

    def __init__(self, cached: bool) -> None:
        self.cached = cached
        self.reached: list[str] = []

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached.append("stack")

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> bool:
        self.reached.append("cache")
        return self.cached


def lane(recorder: Recorder, remembered: dict[bytes, int]) -> RememberedReaderLane:
    readers = RememberedReaders[int]()
    for authorization, user_id in remembered.items():
        readers.remember(readers.key(authorization), user_id)
    return RememberedReaderLane(recorder.app, readers=readers, answer=recorder.answer)


def request(*headers: tuple[bytes, bytes]) -> Scope:
    return {"type": "http", "path": "/simple/demo/", "headers": list(headers)}


async def _nothing() -> dict[str, object]:
    return {}


async def _ignore(message: object) -> None:
    return None


def reached(middleware: RememberedReaderLane, scope: Scope, recorder: Recorder) -> list[str]:
    asyncio.run(middleware(scope, _nothing, _ignore))
    return recorder.reached


def test_remembered_credentials_without_a_cookie_are_answered_from_the_cache() -> None:
    recorder = Recorder(cached=True)
    scope = request((b"authorization", CREDENTIALS))
    assert reached(lane(recorder, {CREDENTIALS: 7}), scope, recorder) == ["cache"]
    assert scope[READER_ID] == 7


def test_a_page_not_cached_goes_on_through_the_stack() -> None:
    recorder = Recorder(cached=False)
    scope = request((b"authorization", CREDENTIALS))
    assert reached(lane(recorder, {CREDENTIALS: 7}), scope, recorder) == ["cache", "stack"]


@pytest.mark.parametrize(
    "headers",
    [
        (),
        ((b"authorization", b"Basic bm90OnRoZW0="),),
        ((b"authorization", CREDENTIALS), (b"cookie", b"session=abc")),
        ((b"cookie", b"session=abc"), (b"authorization", CREDENTIALS)),
    ],
    ids=["anonymous", "not remembered", "with a cookie", "cookie first"],
)
def test_everything_else_takes_the_whole_stack(headers: tuple[tuple[bytes, bytes], ...]) -> None:
    recorder = Recorder(cached=True)
    scope = request(*headers)
    assert reached(lane(recorder, {CREDENTIALS: 7}), scope, recorder) == ["stack"]
    assert READER_ID not in scope
