"""The password every test account has, and password hashing made cheap for the tests."""

from __future__ import annotations

from typing import TypedDict

from wheelyard.services.accounts.passwords import Passwords


class Argon2Cost(TypedDict):
    """The Settings fields for argon2's cost, so ``Settings(**TEST_ARGON2)`` type-checks."""

    argon2_time_cost: int
    argon2_memory_cost: int


# What the factories give an account unless told otherwise, and what the tests log in with.
PASSWORD = "correct horse battery"
# Cheap argon2 parameters, as Settings fields: the tests check behaviour, not hashing cost.
TEST_ARGON2: Argon2Cost = {"argon2_time_cost": 1, "argon2_memory_cost": 1024}


def cheap_passwords() -> Passwords:
    """A hasher with the cheap parameters, for code that hashes outside an app."""
    return Passwords(TEST_ARGON2["argon2_time_cost"], TEST_ARGON2["argon2_memory_cost"])
