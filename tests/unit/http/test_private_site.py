"""The remembered-reader lane of a private site (which requests skip the session layers), and
the checks behind it: one verification however many ask at once, and again before expiry."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Receive, Scope, Send

from wheelyard.http.private_site import (
    CHECK_AGAIN,
    READER_ID,
    ReaderChecks,
    RememberedReaderLane,
)
from wheelyard.services.access.readers import RememberedReaders
from wheelyard.services.accounts.credentials import Credentials

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


class CountingVerifier:
    """Verifies as the database would, counting its calls: one user, slow to answer."""

    def __init__(self, user_id: int | None = 7) -> None:
        self.user_id = user_id
        self.calls = 0

    def __call__(self, scope: Scope, credentials: Credentials) -> int | None:
        self.calls += 1
        return self.user_id


def lane(recorder: Recorder, remembered: dict[bytes, int]) -> RememberedReaderLane:
    readers = RememberedReaders[int]()
    for authorization, user_id in remembered.items():
        readers.remember(readers.key(authorization), user_id)
    checks = ReaderChecks(readers, CountingVerifier())
    return RememberedReaderLane(recorder.app, checks=checks, answer=recorder.answer)


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


def test_many_requests_at_once_verify_the_credentials_once() -> None:
    verify = CountingVerifier()
    checks = ReaderChecks(RememberedReaders[int](), verify)

    async def many() -> list[int | None]:
        scope: Scope = {"type": "http", "headers": []}
        return await asyncio.gather(*(checks.reader_of(scope, CREDENTIALS) for _ in range(20)))

    assert asyncio.run(many()) == [7] * 20
    assert verify.calls == 1


def test_wrong_credentials_are_not_remembered() -> None:
    verify = CountingVerifier(user_id=None)
    checks = ReaderChecks(RememberedReaders[int](), verify)

    async def twice() -> list[int | None]:
        scope: Scope = {"type": "http", "headers": []}
        return [await checks.reader_of(scope, CREDENTIALS) for _ in range(2)]

    assert asyncio.run(twice()) == [None, None]
    assert verify.calls == 2


def test_credentials_in_use_are_verified_again_before_they_expire() -> None:
    now = [100.0]
    readers = RememberedReaders[int](seconds=1.0, monotonic=lambda: now[0])
    verify = CountingVerifier()
    checks = ReaderChecks(readers, verify)
    readers.remember(readers.key(CREDENTIALS), 7)

    async def read_at(moment: float) -> int | None:
        """A request at ``moment``: the lane's answer, else the whole stack's."""
        now[0] = moment
        scope: Scope = {"type": "http", "headers": []}
        reader = checks.remembered(scope, CREDENTIALS)
        if reader is None:
            assert scope[CHECK_AGAIN]
            reader = await checks.reader_of(scope, CREDENTIALS)
        return reader

    async def reads() -> list[int | None]:
        return [await read_at(moment) for moment in (100.2, 100.6, 100.7, 101.3, 101.7)]

    # Fresh at 100.2; due at 100.6 (that one request checks again, not the one at 100.7);
    # so still remembered at 101.3, past the first entry's end; due again at 101.7.
    assert asyncio.run(reads()) == [7, 7, 7, 7, 7]
    assert verify.calls == 2


def test_a_credential_revoked_meanwhile_is_refused_by_the_check_again() -> None:
    now = [100.0]
    readers = RememberedReaders[int](seconds=1.0, monotonic=lambda: now[0])
    verify = CountingVerifier()
    checks = ReaderChecks(readers, verify)
    readers.remember(readers.key(CREDENTIALS), 7)

    async def revoked_then_read() -> tuple[int | None, int | None]:
        now[0] = 100.6
        verify.user_id = None  # revoked
        scope: Scope = {"type": "http", "headers": []}
        assert checks.remembered(scope, CREDENTIALS) is None
        refused = await checks.reader_of(scope, CREDENTIALS)
        return refused, checks.remembered({"type": "http", "headers": []}, CREDENTIALS)

    assert asyncio.run(revoked_then_read()) == (None, None)
