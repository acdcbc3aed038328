from __future__ import annotations

import base64
import time

import pyotp
import pytest
from sqlalchemy.orm import Session

from tests.helpers.audit import audit_actions
from tests.helpers.factories import Factory
from wheelyard.data.user import User
from wheelyard.services.accounts import rate_limit, two_factor
from wheelyard.services.accounts.sealed import Opened, SecretBox
from wheelyard.services.audit import Action, Origin

HERE = Origin("192.0.2.1", "tests")
# Seals the secrets as the app does, with the test settings\' secret key.
BOX = SecretBox("test-secret-key")
# A moment in the middle of a 30-second step, so +/- a few seconds stays in it.
NOW = 1_800_000_015.0


def code(secret: str, at: float = NOW) -> str:
    return pyotp.TOTP(secret).at(int(at))


def enabled(db: Session, user: User) -> tuple[str, list[str]]:
    secret = two_factor.pending_secret(user, BOX)
    codes = two_factor.enable(db, user, code(secret), box=BOX, origin=HERE, now=NOW)
    return secret, codes


def check(db: Session, user: User, typed: str, at: float = NOW) -> two_factor.CodeCheck:
    return two_factor.check_code(db, user, typed, box=BOX, origin=HERE, purpose="test", now=at)


def test_the_pending_secret_is_made_once(make: Factory) -> None:
    user = make.user()
    secret = two_factor.pending_secret(user, BOX)
    assert len(secret) == 32 and secret == secret.upper()
    assert two_factor.pending_secret(user, BOX) == secret
    assert not two_factor.is_enabled(user)


def test_provisioning_uri_and_qr_code() -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    uri = two_factor.provisioning_uri(secret, account="ada@example.com", issuer="Yard")
    assert uri.startswith(f"otpauth://totp/Yard:ada%40example.com?secret={secret}")
    data_uri = two_factor.qr_code_data_uri(uri)
    prefix = "data:image/svg+xml;base64,"
    assert data_uri.startswith(prefix)
    svg = base64.b64decode(data_uri[len(prefix) :]).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    assert two_factor.formatted_secret("ABCDEFGH") == "ABCD EFGH"


def test_enable_needs_the_code_of_the_pending_secret(db: Session, make: Factory) -> None:
    user = make.user()
    with pytest.raises(two_factor.TwoFactorError, match="does not match"):
        two_factor.enable(db, user, "123456", box=BOX, origin=HERE, now=NOW)
    secret = two_factor.pending_secret(user, BOX)
    with pytest.raises(two_factor.TwoFactorError, match="does not match"):
        two_factor.enable(db, user, code(secret, NOW - 120), box=BOX, origin=HERE, now=NOW)
    assert user.totp_secret is None
    codes = two_factor.enable(db, user, code(secret), box=BOX, origin=HERE, now=NOW)
    assert user.totp_secret is not None and user.totp_pending_secret is None
    assert BOX.open(user.totp_secret) == Opened(secret, stale=False)
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT == 10
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    assert two_factor.remaining_recovery_codes(db, user) == 10
    assert audit_actions(db) == [Action.TWO_FACTOR_ENABLED]
    with pytest.raises(two_factor.TwoFactorError, match="already on"):
        two_factor.enable(db, user, code(secret, NOW + 30), box=BOX, origin=HERE, now=NOW + 30)


def test_codes_of_the_neighbouring_steps_count_but_not_older(db: Session, make: Factory) -> None:
    user = make.user()
    secret, _ = enabled(db, user)
    later = NOW + 300
    assert check(db, user, code(secret, later - 30), at=later).method is two_factor.Method.TOTP
    assert check(db, user, code(secret, later + 30), at=later).method is two_factor.Method.TOTP
    assert check(db, user, code(secret, later + 90), at=later).method is None
    assert check(db, user, code(secret, later - 300), at=later).method is None


def test_a_code_is_accepted_once(db: Session, make: Factory) -> None:
    user = make.user()
    secret, _ = enabled(db, user)
    # The code that confirmed the set-up is spent too.
    assert check(db, user, code(secret)).method is None
    later = NOW + 30
    assert check(db, user, code(secret, later), at=later).method is two_factor.Method.TOTP
    assert check(db, user, code(secret, later), at=later).method is None
    # And an older code after a newer one was used.
    assert check(db, user, code(secret, later - 30), at=later).method is None


def test_spaces_in_a_totp_code_are_ignored(db: Session, make: Factory) -> None:
    user = make.user()
    secret, _ = enabled(db, user)
    typed = code(secret, NOW + 30)
    spaced = f" {typed[:3]} {typed[3:]} "
    assert check(db, user, spaced, at=NOW + 30).method is two_factor.Method.TOTP


def test_recovery_codes_work_once_in_any_case_or_spacing(db: Session, make: Factory) -> None:
    user = make.user()
    _, codes = enabled(db, user)
    typed = codes[0].upper().replace("-", " ")
    assert check(db, user, typed).method is two_factor.Method.RECOVERY_CODE
    assert check(db, user, codes[0]).method is None
    assert two_factor.remaining_recovery_codes(db, user) == 9
    assert audit_actions(db)[-2:] == [Action.RECOVERY_CODE_USED, Action.TWO_FACTOR_FAILED]


def test_one_accounts_recovery_code_does_not_open_another(db: Session, make: Factory) -> None:
    ada, bob = make.user(), make.user()
    _, ada_codes = enabled(db, ada)
    enabled(db, bob)
    assert check(db, bob, ada_codes[0]).method is None
    assert check(db, ada, ada_codes[0]).method is two_factor.Method.RECOVERY_CODE


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "x" * 64, "١٢٣٤٥٦"])
def test_malformed_codes_are_wrong_codes(db: Session, make: Factory, typed: str) -> None:
    user = make.user()
    enabled(db, user)
    assert check(db, user, typed) == two_factor.CodeCheck()
    assert audit_actions(db)[-1] == Action.TWO_FACTOR_FAILED


def test_too_many_wrong_codes_stop_even_the_right_one(db: Session, make: Factory) -> None:
    user = make.user()
    secret, _ = enabled(db, user)
    for _ in range(rate_limit.FAILED_CODES_PER_ACCOUNT.attempts):
        check(db, user, "000000")
    db.flush()
    result = check(db, user, code(secret, NOW + 30), at=NOW + 30)
    assert result.method is None
    assert result.limit is rate_limit.FAILED_CODES_PER_ACCOUNT


def test_checking_a_code_needs_two_factor_on(db: Session, make: Factory) -> None:
    with pytest.raises(two_factor.TwoFactorError):
        check(db, make.user(), "123456")


def test_replacing_recovery_codes_voids_the_old(db: Session, make: Factory) -> None:
    user = make.user()
    _, old = enabled(db, user)
    new = two_factor.replace_recovery_codes(db, user)
    assert not set(old) & set(new)
    assert check(db, user, old[0]).method is None
    assert check(db, user, new[0]).method is two_factor.Method.RECOVERY_CODE


def test_disable_clears_everything(db: Session, make: Factory) -> None:
    user = make.user()
    enabled(db, user)
    two_factor.disable(db, user, origin=HERE)
    assert user.totp_secret is None and user.totp_last_counter is None
    assert two_factor.remaining_recovery_codes(db, user) == 0
    assert audit_actions(db)[-1] == Action.TWO_FACTOR_DISABLED


def test_the_current_time_is_used_by_default(db: Session, make: Factory) -> None:
    user = make.user()
    secret = two_factor.pending_secret(user, BOX)
    two_factor.enable(db, user, pyotp.TOTP(secret).now(), box=BOX, origin=HERE)
    upcoming = pyotp.TOTP(secret).at(int(time.time()) + 30)
    assert (
        two_factor.check_code(db, user, upcoming, box=BOX, origin=HERE, purpose="t").method
        is not None
    )


def test_a_plain_text_secret_from_before_sealing_works_and_is_sealed_on_use(
    db: Session, make: Factory
) -> None:
    user = make.user()
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    user.totp_secret = secret  # as stored before secrets were sealed
    assert check(db, user, code(secret)).method is two_factor.Method.TOTP
    assert user.totp_secret.startswith("fernet:") and secret not in user.totp_secret
    assert BOX.open(user.totp_secret) == Opened(secret, stale=False)
    assert check(db, user, code(secret, NOW + 30), at=NOW + 30).method is two_factor.Method.TOTP


def test_a_secret_sealed_under_an_old_key_works_and_is_sealed_again(
    db: Session, make: Factory
) -> None:
    user = make.user()
    old = SecretBox("the-old-key")
    secret, _ = enabled(db, user)
    user.totp_secret = old.seal(secret)
    rotated = SecretBox("the-new-key", ["the-old-key"])
    typed = code(secret, NOW + 30)
    checked = two_factor.check_code(
        db, user, typed, box=rotated, origin=HERE, purpose="t", now=NOW + 30
    )
    assert checked.method is two_factor.Method.TOTP
    assert rotated.open(user.totp_secret) == Opened(secret, stale=False)
    assert SecretBox("the-new-key").open(user.totp_secret).value == secret


def test_a_secret_no_key_opens_is_a_wrong_code_not_a_crash(db: Session, make: Factory) -> None:
    user = make.user()
    secret, _ = enabled(db, user)
    stranger = SecretBox("another-key")
    checked = two_factor.check_code(
        db, user, code(secret, NOW + 30), box=stranger, origin=HERE, purpose="t", now=NOW + 30
    )
    assert checked.method is None
