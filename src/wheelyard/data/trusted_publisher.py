from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class PublisherKind(enum.StrEnum):
    """Whose CI the publisher is: what its claims are matched by."""

    GITHUB = "github"
    GITLAB = "gitlab"
    # Any other OIDC issuer (Gitea, Forgejo, Buildkite...): exact claims to match.
    OIDC = "oidc"


class TrustedPublisher(SqlAlchemyBase):
    """A CI workflow allowed to upload to one project with tokens minted from its OIDC identity.

    ``project_id`` names the project by its normalized name and is no foreign key: a publisher
    for a project that does not exist yet is pending, and creates it on its first upload.
    """

    __tablename__ = "trusted_publishers"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    project_id: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    # The name as it was given, which a pending publisher's project takes.
    project_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[PublisherKind] = mapped_column(
        sa.Enum(
            PublisherKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
    )
    issuer: Mapped[str] = mapped_column(sa.String(512), nullable=False, index=True)
    # GitHub: OWNER/REPO; GitLab: NAMESPACE/PROJECT. None for other issuers.
    repository: Mapped[str | None] = mapped_column(sa.String(512))
    # GitHub: the workflow's file name (release.yml); GitLab: the CI file's path.
    workflow: Mapped[str | None] = mapped_column(sa.String(512))
    environment: Mapped[str | None] = mapped_column(sa.String(256))
    # GitHub's repository_owner_id: survives the owner's name being taken by someone else.
    owner_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Other issuers: claim name -> the value it must have, all of them.
    claims: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    # Added before its project existed: it creates the project on its first upload. Should
    # someone else create a project of that name first, it matches nothing there.
    pending: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Who added it; a pending publisher's project is made with them as its owner.
    added_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
