"""Whether this upload may touch its project: who uploads, with what token, under what name.

An existing project takes files from its owners and maintainers, direct or through a
team, never from its readers (with two-factor when the
project asks for it); a token scoped to one project reaches no other and creates none. A
new project may not take the name of a public standard-library module, nor one that looks
like an existing project's (PyPI's rules).
"""

from __future__ import annotations

import sys

import sqlalchemy as sa
from packaging.metadata import Metadata
from sqlalchemy.orm import Session

from wheelyard.data.package import Package, Visibility, ultranormalize_name
from wheelyard.data.publisher_token import PublisherToken
from wheelyard.data.trusted_publisher import TrustedPublisher
from wheelyard.services.access.roles import effective_role
from wheelyard.services.accounts import two_factor
from wheelyard.services.naming import normalize_name
from wheelyard.services.oidc import publisher_tokens
from wheelyard.services.projects import prohibited_names, status, two_factor_policy
from wheelyard.services.site import flags
from wheelyard.services.uploads.auth import Uploader
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.policy import Policy

_STDLIB_NAMES = frozenset(
    normalize_name(module) for module in sys.stdlib_module_names if not module.startswith("_")
)


def check_new_project_name(
    db: Session, metadata: Metadata, policy: Policy, uploader: Uploader | None = None
) -> None:
    """A project about to be created must not be named like a standard-library module, nor
    look like an existing project's name (``fl-ask``, ``f1ask`` beside ``flask``), nor be
    one the site admins prohibited (whatever the source: the operator's imports too)."""
    prohibited = prohibited_names.find(db, metadata.name)
    if prohibited is not None:
        raise UploadError(prohibited_names.refusal(prohibited), status=403)
    if not policy.pypi_name_rules:
        # Imports of what another index served for years: PyPI itself holds look-alike pairs
        # from before its rule, and the operator chose the folder.
        return
    if normalize_name(metadata.name) in _STDLIB_NAMES:
        raise UploadError(
            f"The name {metadata.name!r} isn't allowed: it is a module of the Python "
            "standard library."
        )
    # The same project, just committed by an upload racing this one, is no look-alike: the
    # insert that follows collides on its id and the retry adds to it as an existing project.
    similar = db.scalars(
        sa.select(Package).where(
            Package.ultranormalized == ultranormalize_name(metadata.name),
            Package.id != normalize_name(metadata.name),
        )
    ).first()
    if similar is None:
        return
    if _may_see(db, uploader, similar):
        raise UploadError(
            f"The name {metadata.name!r} is too similar to an existing project, {similar.name!r}."
        )
    # A private project's name is not told to someone who may not read it.
    raise UploadError(f"The name {metadata.name!r} is too similar to an existing project.")


def _may_see(db: Session, uploader: Uploader | None, package: Package) -> bool:
    if package.visibility is Visibility.PUBLIC or uploader is None or uploader.is_admin:
        return True
    if uploader.user is None:
        return False
    return effective_role(db, uploader.user.id, package.id) is not None


def check_permission(
    db: Session, uploader: Uploader | None, package: Package | None, metadata: Metadata
) -> TrustedPublisher | None:
    """The uploader may add to ``package`` (None: create the project); 403 otherwise.

    The trusted publisher the upload comes through, for a minted token.
    """
    if package is not None and (refusal := status.upload_refusal(package)) is not None:
        raise UploadError(refusal, status=403)
    if uploader is None:
        return None  # the operator, importing from the command line
    if uploader.publisher_token is not None:
        # A CI job's minted token: no account, so no account's second factor to ask for.
        return _publisher(db, uploader.publisher_token, package, metadata)
    assert uploader.user is not None
    if flags.read(db).require_2fa and not two_factor.is_enabled(uploader.user):
        raise UploadError(
            "This index requires two-factor authentication of everyone who uploads. Turn on "
            "two-factor login for your account at /account/two-factor, then upload again.",
            status=403,
        )
    scope = uploader.project_scope
    if package is None:
        if scope is not None:
            raise UploadError(
                f"This API token is limited to project {scope!r}; it cannot create the new "
                f"project {metadata.name!r}.",
                status=403,
            )
        return None
    if scope is not None and scope != package.id:
        raise UploadError(
            f"This API token is limited to project {scope!r}; it cannot upload to project "
            f"{package.name!r}.",
            status=403,
        )
    role = effective_role(db, uploader.user.id, package.id)
    if role is None:
        raise UploadError(
            f"The user {uploader.user.email!r} isn't allowed to upload to project "
            f"{package.name!r}.",
            status=403,
        )
    if not role.may_upload:
        raise UploadError(
            f"The user {uploader.user.email!r} isn't allowed to upload to project "
            f"{package.name!r}: a {role.value} may install and read only.",
            status=403,
        )
    if two_factor_policy.required_but_missing(db, package, uploader.user):
        raise UploadError(two_factor_policy.required_message(package), status=403)
    return None


def _publisher(
    db: Session, token: PublisherToken, package: Package | None, metadata: Metadata
) -> TrustedPublisher:
    """A minted token uploads only where one of the project's publishers matches the claims
    it was minted for; a new project only through a pending publisher."""
    publisher = publisher_tokens.publisher_for(db, token, normalize_name(metadata.name))
    if publisher is None or (package is None and not publisher.pending):
        raise UploadError(
            f"This token was minted for a trusted publisher; no publisher of project "
            f"{metadata.name!r} matches the workflow it was minted for.",
            status=403,
        )
    return publisher
