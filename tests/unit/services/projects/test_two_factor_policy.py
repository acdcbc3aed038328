"""services.projects.two_factor_policy: projects requiring two-factor login of uploaders."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.user import User
from wheelyard.services.accounts import two_factor
from wheelyard.services.accounts.sealed import SecretBox
from wheelyard.services.audit import Action, Origin
from wheelyard.services.projects import two_factor_policy

HERE = Origin("192.0.2.1", "tests")
# Seals the secrets as the app does, with the test settings\' secret key.
BOX = SecretBox("test-secret-key")


def turned_on(db: Session, user: User) -> None:
    secret = two_factor.pending_secret(user, BOX)
    two_factor.enable(db, user, pyotp.TOTP(secret).now(), box=BOX, origin=HERE)


def test_required_but_missing(db: Session, make: Factory) -> None:
    owner, helper = make.user(), make.user()
    package = make.package("strict-lib", owner=owner)
    assert not two_factor_policy.required_but_missing(db, package, helper)
    package.require_2fa = True
    assert two_factor_policy.required_but_missing(db, package, helper)
    turned_on(db, helper)
    assert not two_factor_policy.required_but_missing(db, package, helper)
    assert "'strict-lib' requires two-factor" in two_factor_policy.required_message(package)


def test_owners_with_two_factor_can_require_it(db: Session, make: Factory) -> None:
    owner = make.user()
    package = make.package("strict-lib", owner=owner)
    assert package.require_2fa is False
    with pytest.raises(two_factor.TwoFactorError, match="your own account"):
        two_factor_policy.set_require_2fa(db, package, True, owner, HERE)
    assert package.require_2fa is False
    turned_on(db, owner)
    two_factor_policy.set_require_2fa(db, package, True, owner, HERE)
    assert package.require_2fa is True
    two_factor_policy.set_require_2fa(db, package, True, owner, HERE)  # no change, no second row
    two_factor_policy.set_require_2fa(db, package, False, owner, HERE)
    assert package.require_2fa is False
    rows = db.scalars(sa.select(AuditEvent).where(AuditEvent.package_id == package.id)).all()
    assert [row.action for row in rows] == [
        Action.REQUIRE_2FA_ON,
        Action.REQUIRE_2FA_OFF,
    ]
    assert {row.user_id for row in rows} == {owner.id}
