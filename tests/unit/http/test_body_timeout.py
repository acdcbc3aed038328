"""A body that stops arriving, or only trickles, is answered 408 and the connection closed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from wheelyard.http.body_timeout import BodyIdleTimeoutMiddleware, BodyStalled


def scope(method: str = "POST") -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": "/legacy/",
        "headers": [],
        "query_string": b"",
    }


def client(pieces: list[tuple[float, bytes]], then_wait: float = 60.0) -> Receive:
    """Sends each piece after its delay, the last with more_body False, then waits."""
    queue = list(pieces)

    async def receive() -> Message:
        if not queue:
            await asyncio.sleep(then_wait)
            return {"type": "http.disconnect"}
        delay, body = queue.pop(0)
        await asyncio.sleep(delay)
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    return receive


async def reads_the_body(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await PlainTextResponse(f"{len(body)} bytes")(scope, receive, send)


def run(
    app: Callable[[Scope, Receive, Send], Awaitable[None]],
    receive: Receive,
    *,
    seconds: float,
    min_rate: int = 0,
    method: str = "POST",
) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = BodyIdleTimeoutMiddleware(app, seconds=seconds, min_rate=min_rate)
    asyncio.run(middleware(scope(method), receive, send))
    return sent


def status_and_headers(sent: list[Message]) -> tuple[int, dict[bytes, bytes]]:
    return sent[0]["status"], dict(sent[0]["headers"])


def test_a_stalled_body_gets_408_and_the_connection_closed() -> None:
    sent = run(reads_the_body, client([(0, b"a"), (1.0, b"b")]), seconds=0.1)
    status, headers = status_and_headers(sent)
    assert status == 408
    assert headers[b"connection"] == b"close"
    assert b"stopped arriving" in sent[1]["body"]


def test_a_body_that_keeps_coming_is_read_whole() -> None:
    pieces = [(0.02, b"x" * 10) for _ in range(10)]
    sent = run(reads_the_body, client(pieces), seconds=0.2, min_rate=100)
    assert status_and_headers(sent)[0] == 200
    assert sent[1]["body"] == b"100 bytes"


def test_a_trickle_under_the_idle_limit_is_cut_by_the_minimum_rate() -> None:
    # A byte every 30 ms never waits the 200 ms idle limit, but earns only 10 ms a byte.
    trickle = [(0.03, b"x") for _ in range(100)]
    assert (
        status_and_headers(run(reads_the_body, client(trickle), seconds=0.2, min_rate=100))[0]
        == 408
    )
    # Without a minimum rate the same trickle is only idle-timed, and gets through.
    slow = [(0.03, b"x") for _ in range(10)]
    assert status_and_headers(run(reads_the_body, client(slow), seconds=0.2))[0] == 200


def test_once_the_body_is_in_the_wait_for_a_disconnect_is_not_timed() -> None:
    async def waits_for_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()
        assert (await receive())["type"] == "http.disconnect"  # 0.3 s later: not cut
        await PlainTextResponse("done")(scope, receive, send)

    sent = run(waits_for_disconnect, client([(0, b"all")], then_wait=0.3), seconds=0.1)
    assert status_and_headers(sent)[0] == 200


def test_requests_without_a_body_pass_untouched() -> None:
    original = client([(0, b"")])
    seen: list[Receive] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(receive)
        await PlainTextResponse("ok")(scope, receive, send)

    run(app, original, seconds=0.1, method="GET")
    assert seen == [original]


def test_a_stall_after_the_answer_began_is_left_to_the_server() -> None:
    async def answers_then_reads(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()
        await receive()

    with pytest.raises(BodyStalled):
        run(answers_then_reads, client([(0, b"a"), (1.0, b"b")]), seconds=0.1)
