"""Audit action names for account security, beside the ones in ``services.audit.Action``.

Kept apart so the security services can record and count them without touching the shared
list; the values are ordinary audit actions.
"""

from __future__ import annotations


class AccountAction:
    # An address already in use was tried at sign-up: counted by the registration limits.
    REGISTER_FAILED = "register failed"
    PASSWORD_RESET_REQUESTED = "password reset requested"  # noqa: S105 (an action name)
    PASSWORD_RESET = "password reset"  # noqa: S105 (an action name)
    TWO_FACTOR_ENABLED = "two-factor enabled"
    TWO_FACTOR_DISABLED = "two-factor disabled"
    # A wrong TOTP or recovery code: counted by the two-factor limits.
    TWO_FACTOR_FAILED = "two-factor failed"
    RECOVERY_CODE_USED = "recovery code used"
    RECOVERY_CODES_REPLACED = "recovery codes replaced"
    REQUIRE_2FA_ON = "require two-factor on"
    REQUIRE_2FA_OFF = "require two-factor off"
