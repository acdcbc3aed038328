from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.api_token import ApiToken
from wheelyard.services import clock
from wheelyard.services.accounts import tokens


def test_create_token_keeps_only_the_sha256_of_the_secret(db: Session, make: Factory) -> None:
    user = make.user()
    token, secret = tokens.create_token(db, user, description="laptop")
    assert secret.startswith("wheelyard-")
    assert len(secret) > len("wheelyard-") + 40
    assert token.hashed_secret == hashlib.sha256(secret.encode()).hexdigest()
    assert token.package_id is None
    assert secret not in repr(vars(token))


def test_every_token_is_different(db: Session, make: Factory) -> None:
    user = make.user()
    secrets = {tokens.create_token(db, user, description=f"t{n}")[1] for n in range(5)}
    assert len(secrets) == 5


def test_a_token_is_scoped_only_to_a_project_its_user_maintains(db: Session, make: Factory) -> None:
    user = make.user()
    mine = make.package("mine", owner=user)
    theirs = make.package("theirs", owner=make.user())
    token, _ = tokens.create_token(db, user, description="ci", package_id=mine.id)
    assert token.package_id == "mine"
    with pytest.raises(tokens.TokenError, match="project you maintain"):
        tokens.create_token(db, user, description="ci", package_id=theirs.id)


@pytest.mark.parametrize("description", ["", "   ", "x" * 201])
def test_a_description_is_required_and_bounded(
    db: Session, make: Factory, description: str
) -> None:
    with pytest.raises(tokens.TokenError):
        tokens.create_token(db, make.user(), description=description)


def test_find_valid_token_finds_it_and_records_last_use(db: Session, make: Factory) -> None:
    user = make.user()
    token, secret = tokens.create_token(db, user, description="laptop")
    assert token.last_used is None
    found = tokens.find_valid_token(db, secret)
    assert found is token
    assert found.last_used is not None


@pytest.mark.parametrize(
    "secret", ["", "wheelyard-", "wheelyard-unknown", "pypi-abc", "wheelyard-" + "x" * 5000]
)
def test_find_valid_token_refuses_unknown_secrets(db: Session, make: Factory, secret: str) -> None:
    tokens.create_token(db, make.user(), description="laptop")
    assert tokens.find_valid_token(db, secret) is None


def test_find_valid_token_refuses_expired_tokens(db: Session, make: Factory) -> None:
    user = make.user()
    _, expired = tokens.create_token(
        db, user, description="old", expires=clock.now() - dt.timedelta(seconds=1)
    )
    _, current = tokens.create_token(
        db, user, description="new", expires=clock.now() + dt.timedelta(days=1)
    )
    assert tokens.find_valid_token(db, expired) is None
    assert tokens.find_valid_token(db, current) is not None


def test_find_valid_token_refuses_tokens_of_inactive_users(db: Session, make: Factory) -> None:
    user = make.user()
    _, secret = tokens.create_token(db, user, description="laptop")
    user.is_active = False
    assert tokens.find_valid_token(db, secret) is None


def test_only_the_owner_revokes(db: Session, make: Factory) -> None:
    owner, other = make.user(), make.user()
    token, secret = tokens.create_token(db, owner, description="laptop")
    assert tokens.revoke(db, token.id, other.id) is None
    assert tokens.find_valid_token(db, secret) is not None
    assert tokens.revoke(db, token.id, owner.id) is token
    assert db.get(ApiToken, token.id) is None
    assert tokens.find_valid_token(db, secret) is None
    assert tokens.revoke(db, token.id, owner.id) is None


def test_list_for_user_lists_only_theirs(db: Session, make: Factory) -> None:
    user, other = make.user(), make.user()
    first, _ = tokens.create_token(db, user, description="one")
    second, _ = tokens.create_token(db, user, description="two")
    tokens.create_token(db, other, description="theirs")
    assert {t.id for t in tokens.list_for_user(db, user.id)} == {first.id, second.id}
