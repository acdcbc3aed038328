"""services.uploads.permission: who may upload to a project, and which names a new one may take."""

from __future__ import annotations

import pytest
from packaging.metadata import Metadata
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility
from wheelyard.data.user import User
from wheelyard.services.access import teams
from wheelyard.services.accounts import tokens
from wheelyard.services.audit import Origin
from wheelyard.services.projects import two_factor_policy
from wheelyard.services.uploads.auth import Uploader
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.metadata import validate_metadata
from wheelyard.services.uploads.permission import check_new_project_name, check_permission
from wheelyard.services.uploads.policy import IMPORT_POLICY, UPLOAD_POLICY


def metadata(name: str = "tiny-lib") -> Metadata:
    return validate_metadata({"metadata_version": "2.1", "name": name, "version": "1.0"})


@pytest.fixture
def ada(make: Factory) -> User:
    return make.user(name="Ada", email="ada@example.com")


@pytest.fixture
def project(make: Factory, ada: User) -> Package:
    return make.package("tiny-lib", owner=ada)


def refusal(db: Session, uploader: Uploader, package: Package | None) -> UploadError:
    with pytest.raises(UploadError) as caught:
        check_permission(db, uploader, package, metadata())
    assert caught.value.status == 403
    return caught.value


def test_the_operator_and_any_user_may_create_a_project(db: Session, ada: User) -> None:
    check_permission(db, None, None, metadata())
    check_permission(db, Uploader(ada), None, metadata())


def test_the_operator_owners_and_maintainers_may_upload(
    db: Session, make: Factory, ada: User, project: Package
) -> None:
    bob = make.user(email="bob@example.com")
    db.add(Maintainer(user_id=bob.id, package_id=project.id, role=Role.MAINTAINER))
    db.flush()
    for uploader in (None, Uploader(ada), Uploader(bob)):
        check_permission(db, uploader, project, metadata())


def test_a_teams_maintainer_may_upload_a_reader_may_not(
    db: Session, make: Factory, project: Package
) -> None:
    bob = make.user(email="bob@example.com")
    crew = teams.create(db, "crew", actor=None, origin=Origin())
    teams.add_member(db, crew, bob.email, actor=None, origin=Origin())
    teams.grant(db, crew, project, Role.MAINTAINER, actor=None, origin=Origin())
    check_permission(db, Uploader(bob), project, metadata())
    carol = make.user(email="carol@example.com")
    db.add(Maintainer(user_id=carol.id, package_id=project.id, role=Role.READER))
    db.flush()
    assert refusal(db, Uploader(carol), project).message == (
        "The user 'carol@example.com' isn't allowed to upload to project 'tiny-lib': "
        "a Reader may install and read only."
    )
    teams.grant(db, crew, project, Role.READER, actor=None, origin=Origin())
    assert "a Reader may install" in refusal(db, Uploader(bob), project).message


def test_another_users_project_is_refused(db: Session, make: Factory, project: Package) -> None:
    mallory = make.user(email="mallory@example.com")
    assert refusal(db, Uploader(mallory), project).message == (
        "The user 'mallory@example.com' isn't allowed to upload to project 'tiny-lib'."
    )


def test_a_token_scoped_to_the_project_may_upload(db: Session, ada: User, project: Package) -> None:
    token, _secret = tokens.create_token(db, ada, description="ci", package_id=project.id)
    check_permission(db, Uploader(ada, token), project, metadata())


def test_a_token_scoped_to_another_project_is_refused(
    db: Session, make: Factory, ada: User, project: Package
) -> None:
    make.package("other-project", owner=ada)
    token, _secret = tokens.create_token(db, ada, description="ci", package_id="other-project")
    assert refusal(db, Uploader(ada, token), project).message == (
        "This API token is limited to project 'other-project'; it cannot upload to project "
        "'tiny-lib'."
    )


def test_a_scoped_token_cannot_create_a_project(db: Session, make: Factory, ada: User) -> None:
    make.package("other-project", owner=ada)
    token, _secret = tokens.create_token(db, ada, description="ci", package_id="other-project")
    assert refusal(db, Uploader(ada, token), None).message == (
        "This API token is limited to project 'other-project'; it cannot create the new "
        "project 'tiny-lib'."
    )


def test_a_project_that_requires_two_factor_refuses_an_account_without(
    db: Session, ada: User, project: Package
) -> None:
    project.require_2fa = True
    db.flush()
    error = refusal(db, Uploader(ada), project)
    assert error.message == two_factor_policy.required_message(project)


def test_a_standard_library_name_is_refused_for_a_new_project(db: Session) -> None:
    with pytest.raises(UploadError) as caught:
        check_new_project_name(db, metadata("asyncio"), UPLOAD_POLICY)
    assert caught.value.message == (
        "The name 'asyncio' isn't allowed: it is a module of the Python standard library."
    )
    check_new_project_name(db, metadata("tiny-lib"), UPLOAD_POLICY)


def test_an_import_may_keep_a_standard_library_name(db: Session) -> None:
    check_new_project_name(db, metadata("Json"), IMPORT_POLICY)


@pytest.mark.parametrize(
    ("existing", "look_alike"),
    [
        ("Flask", "fl-ask"),
        ("Flask", "fla.sk"),
        ("Flask", "f-l-a-s-k"),
        ("Flask", "f1ask"),
        ("Flask", "FIask"),
        ("requests", "request-s"),
        ("requests", "reque-sts"),
        ("boto", "b0t0"),
        ("lion", "l10n"),
    ],
)
def test_a_name_that_looks_like_an_existing_project_is_refused_naming_it(
    db: Session, make: Factory, existing: str, look_alike: str
) -> None:
    make.package(existing)
    with pytest.raises(UploadError) as caught:
        check_new_project_name(db, metadata(look_alike), UPLOAD_POLICY)
    assert caught.value.status == 400
    assert caught.value.message == (
        f"The name {look_alike!r} is too similar to an existing project, {existing!r}."
    )


def test_names_that_only_share_letters_are_not_look_alikes(db: Session, make: Factory) -> None:
    make.package("flask")
    for name in ("flask-login", "flasks", "falsk", "requests"):
        check_new_project_name(db, metadata(name), UPLOAD_POLICY)


def test_a_private_look_alike_is_refused_without_its_name(
    db: Session, make: Factory, ada: User
) -> None:
    hidden = make.package("secret-tool", owner=ada)
    hidden.visibility = Visibility.PRIVATE
    db.flush()
    bob = make.user(email="bob@example.com")
    with pytest.raises(UploadError) as caught:
        check_new_project_name(db, metadata("secret_t0ol"), UPLOAD_POLICY, Uploader(bob))
    assert caught.value.message == "The name 'secret_t0ol' is too similar to an existing project."
    with pytest.raises(UploadError) as caught:
        check_new_project_name(db, metadata("secret_t0ol"), UPLOAD_POLICY, Uploader(ada))
    assert "'secret-tool'" in caught.value.message


def test_an_import_may_keep_a_look_alike_name(db: Session, make: Factory) -> None:
    make.package("flask")
    check_new_project_name(db, metadata("f1ask"), IMPORT_POLICY)


def test_the_ultranormalized_column_follows_the_name(db: Session, make: Factory) -> None:
    package = make.package("Fla_sk.Tools")
    assert package.ultranormalized == "f1askt001s"
    package.name = "Other-Name"
    assert package.ultranormalized == "0thername"
