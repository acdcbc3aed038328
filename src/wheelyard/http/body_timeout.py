"""Requests whose body stops coming get 408 and lose their connection.

A client that sends an upload a byte every few seconds holds its connection, and the worker's
attention, for as long as it likes; a few hundred such clients hold a server. So while a
request's body is still arriving, each wait for the next piece is limited to ``seconds``
(WHEELYARD_BODY_IDLE_SECONDS), and the body as a whole must keep up ``min_rate`` bytes a
second (WHEELYARD_BODY_MIN_RATE) after a grace of the same ``seconds``, as Apache's
mod_reqtimeout asks: each byte earns the body ``1 / min_rate`` seconds more, so a trickle
that never pauses long enough for the idle limit is cut too. Past either, the handler is
stopped and the client gets ``408 Request Timeout`` with ``Connection: close`` (the rest of
its body will never be read, so the connection cannot carry another request).

Only the body is timed: once it is complete, ``receive`` waits for the client's disconnect
(a streamed download listens for it) and must wait as long as the download takes. Requests
of methods without a body skip this layer altogether, so cached pages and downloads pay a set
lookup for it and nothing more.
"""

from __future__ import annotations

import asyncio

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Methods whose requests carry no body that anything here reads.
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
IDLE_BODY = "Request Timeout: the request body stopped arriving."


class BodyStalled(Exception):
    """No piece of the body came within the limit."""


class BodyIdleTimeoutMiddleware:
    def __init__(self, app: ASGIApp, seconds: float, min_rate: int = 0) -> None:
        self.app = app
        self.seconds = seconds
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        seconds, min_rate = self.seconds, self.min_rate
        loop = asyncio.get_running_loop()
        # By when the body must be complete at the slowest rate allowed, for what came so far.
        allowed_until = loop.time() + seconds
        body_done = False
        started = False

        async def timed_receive() -> Message:
            nonlocal body_done, allowed_until
            if body_done:
                return await receive()
            now = loop.time()
            deadline = now + seconds
            if min_rate:
                deadline = min(deadline, allowed_until)
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyStalled from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            elif min_rate:
                allowed_until += len(message.get("body", b"")) / min_rate
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except BodyStalled:
            if started:
                raise  # an answer is under way: only the server can end it now
            response = PlainTextResponse(
                IDLE_BODY, status_code=408, headers={"Connection": "close"}
            )
            await response(scope, receive, send)
