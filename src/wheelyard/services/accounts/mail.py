"""Sending email over SMTP with the standard library; used for password-reset links."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from wheelyard.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    # Bounded, so a mail server that stops answering cannot hold a worker thread for long.
    timeout_seconds: float = 10.0


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The configured mail server; None when the index sends no email."""
    if not settings.smtp_host:
        return None
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


def compose(server: SmtpServer, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send(server: SmtpServer, message: EmailMessage) -> None:
    """Deliver ``message`` to the server; OSError (smtplib's errors included) on failure."""
    with smtplib.SMTP(server.host, server.port, timeout=server.timeout_seconds) as client:
        if server.starttls:
            client.starttls(context=ssl.create_default_context())
        if server.username:
            client.login(server.username, server.password or "")
        client.send_message(message)


def send_or_log(server: SmtpServer, message: EmailMessage) -> bool:
    """Deliver ``message``; a failure is logged, not raised (callers answer the same anyway)."""
    try:
        send(server, message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning(
            "could not send %r to %s via %s:%d: %s",
            message["Subject"],
            message["To"],
            server.host,
            server.port,
            error,
        )
        return False
    return True
