"""A keyring for pip's ``--keyring-provider import`` in tests: one credential, from the
environment, so no test touches the machine's real keyring.

Selected with ``PYTHON_KEYRING_BACKEND=tests.helpers.keyring_backend.EnvironmentKeyring``;
``WHEELYARD_TEST_KEYRING`` holds ``username:password``, answered for any service.
"""

from __future__ import annotations

import os

from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential

VARIABLE = "WHEELYARD_TEST_KEYRING"


class EnvironmentKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _credential(self) -> tuple[str, str] | None:
        value = os.environ.get(VARIABLE, "")
        username, separator, password = value.partition(":")
        return (username, password) if separator else None

    def get_password(self, service: str, username: str) -> str | None:
        found = self._credential()
        return found[1] if found is not None and found[0] == username else None

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        found = self._credential()
        if found is None or (username is not None and username != found[0]):
            return None
        return SimpleCredential(*found)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("a read-only keyring for tests")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError("a read-only keyring for tests")
