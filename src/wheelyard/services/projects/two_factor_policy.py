"""Projects that require two-factor login of everyone who uploads to them.

The requirement is the project's; whether an account has two-factor login is the account's
(accounts.two_factor). This module joins the two, one layer above accounts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts import two_factor
from wheelyard.services.audit import Origin


def required_but_missing(db: Session, package: Package, user: User) -> bool:
    """Whether ``package`` requires two-factor login of its uploaders and ``user`` has none.

    Checked for every upload to an existing project, however the uploader authenticated:
    a token of an account without two-factor login is as easy to phish as its password.
    """
    return package.require_2fa and not two_factor.is_enabled(user)


def required_message(package: Package) -> str:
    """The reason an upload refused by :func:`required_but_missing` gives."""
    return (
        f"Project {package.name!r} requires two-factor authentication for uploads. Turn on "
        "two-factor login for your account at /account/two-factor, then upload again."
    )


def set_require_2fa(
    db: Session, package: Package, value: bool, actor: User, origin: Origin
) -> None:
    """Require (or stop requiring) two-factor login of everyone who uploads to ``package``.

    Only with two-factor login on the actor themselves: otherwise the first thing the
    requirement would stop is their own next upload. Whether the actor manages the project
    is the caller's check (access.roles.can_manage), as for every change on the manage page.
    """
    if value and not two_factor.is_enabled(actor):
        raise two_factor.TwoFactorError(
            "Turn on two-factor login for your own account before requiring it for this project."
        )
    if package.require_2fa == value:
        return
    package.require_2fa = value
    audit.record(
        db,
        audit.Action.REQUIRE_2FA_ON if value else audit.Action.REQUIRE_2FA_OFF,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
    )
