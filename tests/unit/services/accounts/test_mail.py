from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.live_server import free_port
from wheelyard.config import Settings
from wheelyard.services.accounts import mail


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_no_host_means_no_mail() -> None:
    assert mail.smtp_server(Settings()) is None


def test_settings_make_the_server() -> None:
    settings = Settings(
        smtp_host="mail.example.com",
        smtp_port=587,
        smtp_from="index@example.com",
        smtp_user="index",
        smtp_password="secret",
        smtp_starttls=True,
    )
    assert mail.smtp_server(settings) == mail.SmtpServer(
        host="mail.example.com",
        port=587,
        sender="index@example.com",
        username="index",
        password="secret",
        starttls=True,
    )


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "WHEELYARD_SECRET_KEY": "k",
            "WHEELYARD_SMTP_HOST": "mail.example.com",
            "WHEELYARD_SMTP_PORT": "2525",
            "WHEELYARD_SMTP_FROM": "index@example.com",
            "WHEELYARD_SMTP_USER": "index",
            "WHEELYARD_SMTP_PASSWORD": "secret",
            "WHEELYARD_SMTP_STARTTLS": "1",
            "WHEELYARD_PASSWORD_RESET_MINUTES": "15",
            "WHEELYARD_PUBLIC_URL": "https://pypi.example.org/",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_from) == (
        "mail.example.com",
        2525,
        "index@example.com",
    )
    assert (settings.smtp_user, settings.smtp_password, settings.smtp_starttls) == (
        "index",
        "secret",
        True,
    )
    assert settings.password_reset_minutes == 15
    assert settings.public_url == "https://pypi.example.org"
    defaults = Settings.from_env({"WHEELYARD_SECRET_KEY": "k"})
    assert (defaults.smtp_host, defaults.smtp_port, defaults.password_reset_minutes) == (
        None,
        25,
        60,
    )
    assert defaults.public_url is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WHEELYARD_SMTP_PORT", "smtp"),
        ("WHEELYARD_SMTP_PORT", "70000"),
        ("WHEELYARD_PASSWORD_RESET_MINUTES", "0"),
        ("WHEELYARD_PASSWORD_RESET_MINUTES", "soon"),
    ],
)
def test_bad_mail_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        Settings.from_env({"WHEELYARD_SECRET_KEY": "k", name: value})


def test_send_delivers_to_the_server(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    server = mail.SmtpServer(host="127.0.0.1", port=port, sender="index@example.com")
    message = mail.compose(server, "ada@example.com", "Hello", "The body.\n")
    assert mail.send_or_log(server, message)
    ((sender, recipients, content),) = handler.received
    assert (sender, recipients) == ("index@example.com", ["ada@example.com"])
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["Subject"] == "Hello"


def test_a_server_that_is_down_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    server = mail.SmtpServer(host="127.0.0.1", port=free_port(), sender="index@example.com")
    message = mail.compose(server, "ada@example.com", "Hello", "The body.\n")
    with pytest.raises(ConnectionRefusedError):
        mail.send(server, message)
    with caplog.at_level(logging.WARNING, logger="wheelyard.services.accounts.mail"):
        assert not mail.send_or_log(server, message)
    assert "could not send 'Hello' to ada@example.com" in caplog.text
