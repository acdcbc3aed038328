"""Account pages, one module per flow: register, sign in (with the second-factor step) and
out, the account page and password change, password reset, email
verification, and two-factor set-up.

Who is signed in, and where to send everyone else, is ``wheelyard.web.session``'s to say;
the pages of other areas (tokens, manage) ask it, not these views.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from wheelyard.web.views.accounts import (
    account,
    email_verification,
    password_reset,
    register,
    sign_in,
    two_factor,
)

# No two patterns overlap: the order is only for reading.
routes: list[BaseRoute] = [
    *register.routes,
    *sign_in.routes,
    *account.routes,
    *password_reset.routes,
    *email_verification.routes,
    *two_factor.routes,
]
