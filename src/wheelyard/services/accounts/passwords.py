"""Password hashing: argon2id (salted, iterated, memory-hard), never a plain or fast hash."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True)
class Verification:
    ok: bool
    # A fresh hash to store when the stored one used weaker parameters than the current ones.
    new_hash: str | None = None


class Passwords:
    def __init__(self, time_cost: int = 3, memory_cost: int = 65536) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=1, type=Type.ID
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> Verification:
        if not stored_hash:
            # Spend the same time as a real check so a missing password is not observable.
            self._hasher.hash(password)
            return Verification(ok=False)
        try:
            self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return Verification(ok=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return Verification(ok=True, new_hash=self._hasher.hash(password))
        return Verification(ok=True)
