"""What the account forms share: reading a text field, the two-factor code field, and the
rules for an email address and a new password.

Values are bounded as they are read, so oversized input is refused as wrong before it
reaches a service or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from wheelyard.services.accounts import users

# Deliberately loose: the address only has to look deliverable; one "@", a dot after it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Longer than any TOTP or recovery code, however spaced: such input is simply wrong.
_MAX_CODE_LENGTH = 64

CODES_LIMITED_MESSAGE = "Too many wrong codes. Wait a while, then try again."
WRONG_CODE_MESSAGE = "That code is not right."


def text_field(form: FormData, name: str) -> str:
    """The field's text; empty when it is missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def is_email_address(value: str) -> bool:
    return len(value) <= users.MAX_EMAIL_LENGTH and _EMAIL.match(value) is not None


def new_password_errors(password: str, confirm: str) -> list[str]:
    if len(password) < users.MIN_PASSWORD_LENGTH:
        return [f"Choose a password of at least {users.MIN_PASSWORD_LENGTH} characters."]
    if len(password) > users.MAX_PASSWORD_LENGTH:
        return [f"The password is longer than {users.MAX_PASSWORD_LENGTH} characters."]
    if password != confirm:
        return ["The two passwords differ."]
    return []


@dataclass
class CodeForm:
    """The one field of the two-factor forms: a TOTP code or a recovery code."""

    code: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: FormData) -> CodeForm:
        code = text_field(form, "code")
        return cls(code=code if len(code) <= _MAX_CODE_LENGTH else "")
