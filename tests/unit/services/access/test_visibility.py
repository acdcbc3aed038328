"""services.access.roles and visibility: who may see a project, the one rule."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility
from wheelyard.services.access import roles, visibility
from wheelyard.services.access.visibility import Reader


def _private(make: Factory, name: str, owner_id: int | None = None) -> Package:
    package = make.package(name)
    package.visibility = Visibility.PRIVATE
    if owner_id is not None:
        make.db.add(Maintainer(user_id=owner_id, package_id=package.id, role=Role.OWNER))
    make.db.flush()
    return package


def test_effective_role_is_the_maintainers_role(db: Session, make: Factory) -> None:
    olive, mona, stranger = make.user(), make.user(), make.user()
    package = make.package("roles-demo", owner=olive)
    db.add(Maintainer(user_id=mona.id, package_id=package.id, role=Role.MAINTAINER))
    db.flush()
    assert roles.effective_role(db, olive.id, package.id) == Role.OWNER
    assert roles.effective_role(db, mona.id, package.id) == Role.MAINTAINER
    assert roles.effective_role(db, stranger.id, package.id) is None
    assert roles.effective_role(db, olive.id, "no-such-project") is None


def test_readable_private_ids_are_the_private_projects_with_a_role(
    db: Session, make: Factory
) -> None:
    priya, other = make.user(), make.user()
    mine = _private(make, "mine-private", priya.id)
    _private(make, "theirs-private", other.id)
    make.package("public-one", owner=priya)  # public: never in the set
    assert roles.readable_private_ids(db, priya.id) == frozenset({mine.id})
    assert roles.readable_private_ids(db, make.user().id) == frozenset()


def test_public_projects_are_for_everyone_private_ones_for_roles(
    db: Session, make: Factory
) -> None:
    priya, stranger = make.user(), make.user()
    public = make.package("open-project")
    secret = _private(make, "hidden-project", priya.id)
    for reader in (None, Reader(stranger.id), Reader(priya.id)):
        assert visibility.may_read(db, reader, public.id)
    assert visibility.may_read(db, Reader(priya.id), secret.id)
    assert not visibility.may_read(db, Reader(stranger.id), secret.id)
    assert not visibility.may_read(db, None, secret.id)
    assert not visibility.may_read(db, Reader(priya.id), "no-such-project")


def test_a_token_limited_to_another_project_grants_nothing_private(
    db: Session, make: Factory
) -> None:
    priya = make.user()
    secret = _private(make, "hidden-two", priya.id)
    other = make.package("other-project", owner=priya)
    limited = Reader(priya.id, only_package=other.id)
    assert not visibility.may_read(db, limited, secret.id)
    assert visibility.may_read(db, limited, other.id)  # public anyway
    assert visibility.may_read(db, Reader(priya.id, only_package=secret.id), secret.id)
    assert visibility.private_ids_for(db, limited) == frozenset()
    assert visibility.private_ids_for(db, Reader(priya.id)) == frozenset({secret.id})


def test_hidden_from_is_every_private_project_but_the_readers(db: Session, make: Factory) -> None:
    priya, other = make.user(), make.user()
    mine = _private(make, "hidden-mine", priya.id)
    theirs = _private(make, "hidden-theirs", other.id)
    assert visibility.hidden_from(db, None) >= {mine.id, theirs.id}
    hidden = visibility.hidden_from(db, Reader(priya.id))
    assert theirs.id in hidden and mine.id not in hidden
