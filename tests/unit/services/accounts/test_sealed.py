"""services.accounts.sealed: values sealed under the secret key, opened with it or old ones."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet, InvalidToken

from wheelyard.services.accounts.sealed import PREFIX, Opened, SecretBox, Unreadable


def test_a_sealed_value_opens_and_hides_the_value() -> None:
    box = SecretBox("key-one")
    sealed = box.seal("JBSWY3DPEHPK3PXP")
    assert sealed.startswith(PREFIX) and "JBSWY3DPEHPK3PXP" not in sealed
    assert box.seal("JBSWY3DPEHPK3PXP") != sealed  # a fresh IV each time
    assert box.open(sealed) == Opened("JBSWY3DPEHPK3PXP", stale=False)
    assert len(sealed) <= 255  # the column's width


def test_plain_text_from_before_sealing_reads_as_stale() -> None:
    assert SecretBox("key-one").open("JBSWY3DPEHPK3PXP") == Opened("JBSWY3DPEHPK3PXP", stale=True)


def test_old_keys_open_what_they_sealed_and_say_stale() -> None:
    sealed = SecretBox("key-one").seal("value")
    rotated = SecretBox("key-two", ["key-zero", "key-one"])
    assert rotated.open(sealed) == Opened("value", stale=True)


def test_a_value_no_key_opens_or_one_altered_is_refused() -> None:
    sealed = SecretBox("key-one").seal("value")
    with pytest.raises(Unreadable):
        SecretBox("key-two").open(sealed)
    altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(Unreadable):
        SecretBox("key-one").open(altered)


def test_the_key_is_not_the_secret_key_itself() -> None:
    # Derived through HKDF: a Fernet built straight from the secret key's bytes cannot open it.
    secret_key = "k" * 32
    sealed = SecretBox(secret_key).seal("value").removeprefix(PREFIX)
    with pytest.raises(InvalidToken):
        Fernet(base64.urlsafe_b64encode(secret_key.encode())).decrypt(sealed)
