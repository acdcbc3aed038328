"""release_metadata: each release keeps the core metadata it came with

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-12 09:00:00

Until now a project's README, license, authors, URLs and classifiers lived on the package and
the newest upload overwrote them, so every release's page showed the latest release's. Each
release now gets one row of its own. What exists is filled in from what is stored today: the
package's columns describe its latest release (the one its page shows), so that release gets
them; older releases get no row rather than another release's metadata (their pages fall
back to the METADATA stored beside their wheels, where there is one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT_COLUMNS = (
    "summary",
    "description",
    "description_content_type",
    "description_html",
    "home_page",
    "download_url",
    "docs_url",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "license",
    "license_expression",
    "license_name",
    "requires_python",
)
_JSON_COLUMNS = (
    "keywords",
    "project_urls",
    "license_files",
    "classifiers",
    "requires_dist",
    "provides_extra",
    "platforms",
    "dynamic",
)
# The columns in the order the model lists them (data/release_metadata.py).
_MODEL_ORDER = (
    "summary",
    "description",
    "description_content_type",
    "description_html",
    "keywords",
    "home_page",
    "download_url",
    "docs_url",
    "project_urls",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "license",
    "license_expression",
    "license_files",
    "license_name",
    "classifiers",
    "requires_dist",
    "provides_extra",
    "requires_python",
    "platforms",
    "dynamic",
)
_BATCH = 1000

_packages = sa.table(
    "packages",
    sa.column("id", sa.String),
    sa.column("summary", sa.String),
    sa.column("description", sa.Text),
    sa.column("description_content_type", sa.String),
    sa.column("description_html", sa.Text),
    sa.column("keywords", sa.String),
    sa.column("home_page", sa.String),
    sa.column("docs_url", sa.String),
    sa.column("author_name", sa.String),
    sa.column("author_email", sa.String),
    sa.column("license_id", sa.String),
)
_releases = sa.table(
    "releases",
    sa.column("id", sa.Integer),
    sa.column("package_id", sa.String),
    sa.column("sort_key", sa.LargeBinary),
    sa.column("yanked", sa.Boolean),
    sa.column("is_prerelease", sa.Boolean),
    sa.column("requires_python", sa.String),
)
_classifiers = sa.table(
    "package_classifiers", sa.column("package_id", sa.String), sa.column("classifier", sa.String)
)
_release_metadata = sa.table(
    "release_metadata",
    sa.column("release_id", sa.Integer),
    *(sa.column(name, sa.Text) for name in _TEXT_COLUMNS),
    *(sa.column(name, sa.JSON) for name in _JSON_COLUMNS),
)


def upgrade() -> None:
    op.create_table(
        "release_metadata",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        *(
            sa.Column(name, sa.JSON() if name in _JSON_COLUMNS else sa.Text(), nullable=True)
            for name in _MODEL_ORDER
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_metadata_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_id", name=op.f("pk_release_metadata")),
    )
    op.create_index(
        op.f("ix_release_metadata_created_date"),
        "release_metadata",
        ["created_date"],
        unique=False,
    )
    _fill_latest_releases(op.get_bind())


def _fill_latest_releases(connection: sa.Connection) -> None:
    """The package's columns, copied to the release its page shows (``default_release``)."""
    # The latest release as services/projects/packages.default_release picks it: the highest
    # final not yanked, else the highest pre-release not yanked, else the highest of all.
    rank = sa.func.row_number().over(
        partition_by=_releases.c.package_id,
        order_by=(
            _releases.c.yanked,
            sa.case((_releases.c.yanked, sa.false()), else_=_releases.c.is_prerelease),
            _releases.c.sort_key.desc(),
        ),
    )
    ranked = sa.select(
        _releases.c.id, _releases.c.package_id, _releases.c.requires_python, rank.label("rank")
    ).subquery()
    query = (
        sa.select(
            ranked.c.id.label("release_id"),
            ranked.c.requires_python.label("release_requires_python"),
            *_packages.c,
        )
        .join(_packages, _packages.c.id == ranked.c.package_id)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.package_id)
    )
    batch: list[dict[str, Any]] = []
    for row in connection.execute(query).mappings():
        batch.append(_row(connection, row))
        if len(batch) >= _BATCH:
            connection.execute(_release_metadata.insert(), batch)
            batch = []
    if batch:
        connection.execute(_release_metadata.insert(), batch)


def _row(connection: sa.Connection, package: sa.RowMapping) -> dict[str, Any]:
    classifiers = list(
        connection.execute(
            sa.select(_classifiers.c.classifier)
            .where(_classifiers.c.package_id == package["id"])
            .order_by(_classifiers.c.classifier)
        ).scalars()
    )
    keywords = [word.strip() for word in (package["keywords"] or "").split(",") if word.strip()]
    values: dict[str, Any] = dict.fromkeys((*_TEXT_COLUMNS, *_JSON_COLUMNS))
    values.update(
        release_id=package["release_id"],
        summary=package["summary"],
        description=package["description"],
        description_content_type=package["description_content_type"],
        description_html=package["description_html"],
        home_page=package["home_page"],
        docs_url=package["docs_url"],
        author=package["author_name"],
        author_email=package["author_email"],
        license_name=package["license_id"],
        requires_python=package["release_requires_python"],
        keywords=keywords or None,
        classifiers=classifiers or None,
    )
    return values


def downgrade() -> None:
    op.drop_index(op.f("ix_release_metadata_created_date"), table_name="release_metadata")
    op.drop_table("release_metadata")
