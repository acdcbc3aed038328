"""A real SMTP server (aiosmtpd) on a loopback port, keeping what the app sends it."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers.live_server import free_port

# A password reset link in a message body, and its token.
RESET_LINK = re.compile(r"(\S+/account/reset/([A-Za-z0-9_-]+))")
# An email verification link, and its token (itsdangerous's, with dots).
VERIFY_LINK = re.compile(r"(\S+/account/verify/([A-Za-z0-9_.-]+))")


class Inbox:
    """The messages an SMTP sink received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def only_link(self, link: re.Pattern[str] = RESET_LINK) -> tuple[str, str]:
        """The URL (a reset link unless told) and its token, from the one message received."""
        assert len(self.messages) == 1, f"{len(self.messages)} messages"
        body = self.messages[0].get_content()
        match = link.search(body)
        assert match, body
        return match.group(1), match.group(2)


@contextmanager
def smtp_sink() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server for the block, and its inbox and port."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
