"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 04:45:48.982514
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_registry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_registry")),
        sa.UniqueConstraint("filename", name=op.f("uq_file_registry_filename")),
    )
    with op.batch_alter_table("file_registry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_file_registry_created_date"), ["created_date"], unique=False
        )

    op.create_table(
        "languages",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_languages")),
    )
    with op.batch_alter_table("languages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_languages_created_date"), ["created_date"], unique=False
        )

    op.create_table(
        "licenses",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_licenses_created_date"), ["created_date"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("hashed_password", sa.String(length=256), nullable=True),
        sa.Column("profile_image_url", sa.String(length=1024), nullable=True),
        sa.Column("last_login", sa.DateTime(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_created_date"), ["created_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_users_last_login"), ["last_login"], unique=False)

    op.create_table(
        "journal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("filename", sa.String(length=512), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_journal_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_created_date"), ["created_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_user_id"), ["user_id"], unique=False)

    op.create_table(
        "packages",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=512), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("description_content_type", sa.String(length=128), nullable=True),
        sa.Column("description_html", sa.Text(), nullable=True),
        sa.Column("keywords", sa.String(length=1024), nullable=True),
        sa.Column("home_page", sa.String(length=1024), nullable=True),
        sa.Column("docs_url", sa.String(length=1024), nullable=True),
        sa.Column("package_url", sa.String(length=1024), nullable=True),
        sa.Column("author_name", sa.String(length=512), nullable=True),
        sa.Column("author_email", sa.String(length=512), nullable=True),
        sa.Column("license_id", sa.String(length=200), nullable=True),
        sa.Column("last_updated", sa.DateTime(), nullable=True),
        sa.Column("last_serial", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_packages_license_id_licenses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_packages_author_email"), ["author_email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_packages_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_packages_last_updated"), ["last_updated"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_packages_license_id"), ["license_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("hashed_secret", sa.String(length=64), nullable=False),
        sa.Column("package_id", sa.String(length=200), nullable=True),
        sa.Column("expires", sa.DateTime(), nullable=True),
        sa.Column("last_used", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_api_tokens_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("hashed_secret", name=op.f("uq_api_tokens_hashed_secret")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_api_tokens_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_audit_package_id_packages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_created_date"), ["created_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_user_id"), ["user_id"], unique=False)

    op.create_table(
        "maintainers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("Owner", "Maintainer", name="role", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_maintainers_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_maintainers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "package_id", name=op.f("pk_maintainers")),
    )
    with op.batch_alter_table("maintainers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintainers_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_maintainers_package_id"), ["package_id"], unique=False)

    op.create_table(
        "package_languages",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("language_id", sa.String(length=100), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["language_id"],
            ["languages.id"],
            name=op.f("fk_package_languages_language_id_languages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_languages_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", "language_id", name=op.f("pk_package_languages")),
    )
    with op.batch_alter_table("package_languages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_package_languages_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_languages_language_id"), ["language_id"], unique=False
        )

    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("sort_key", sa.LargeBinary(length=256), nullable=False),
        sa.Column("major_ver", sa.BigInteger(), nullable=False),
        sa.Column("minor_ver", sa.BigInteger(), nullable=False),
        sa.Column("build_ver", sa.BigInteger(), nullable=False),
        sa.Column("is_prerelease", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("requires_python", sa.String(length=256), nullable=True),
        sa.Column("yanked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("yanked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_releases_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("package_id", "version", name=op.f("uq_releases_package_id_version")),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_build_ver"), ["build_ver"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_releases_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_releases_major_ver"), ["major_ver"], unique=False)
        batch_op.create_index(batch_op.f("ix_releases_minor_ver"), ["minor_ver"], unique=False)
        batch_op.create_index(batch_op.f("ix_releases_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_releases_sort_key"), ["sort_key"], unique=False)

    op.create_table(
        "release_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("packagetype", sa.String(length=32), nullable=False),
        sa.Column("python_version", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256_digest", sa.String(length=64), nullable=False),
        sa.Column("blake2_256_digest", sa.String(length=64), nullable=True),
        sa.Column("md5_digest", sa.String(length=32), nullable=True),
        sa.Column("requires_python", sa.String(length=256), nullable=True),
        sa.Column("metadata_sha256", sa.String(length=64), nullable=True),
        sa.Column("storage_path", sa.String(length=1024), nullable=True),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_files_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_release_files_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_files")),
        sa.UniqueConstraint("filename", name=op.f("uq_release_files_filename")),
        sa.UniqueConstraint("sha256_digest", name=op.f("uq_release_files_sha256_digest")),
    )
    with op.batch_alter_table("release_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_release_files_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_release_files_release_id"), ["release_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_release_files_uploaded_by"), ["uploaded_by"], unique=False
        )

    op.create_table(
        "downloads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["release_files.id"],
            name=op.f("fk_downloads_file_id_release_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_downloads_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_downloads_release_id_releases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downloads")),
    )
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_downloads_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_downloads_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_downloads_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_downloads_release_id"), ["release_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_downloads_release_id"))
        batch_op.drop_index(batch_op.f("ix_downloads_package_id"))
        batch_op.drop_index(batch_op.f("ix_downloads_file_id"))
        batch_op.drop_index(batch_op.f("ix_downloads_created_date"))

    op.drop_table("downloads")
    with op.batch_alter_table("release_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_files_uploaded_by"))
        batch_op.drop_index(batch_op.f("ix_release_files_release_id"))
        batch_op.drop_index(batch_op.f("ix_release_files_created_date"))

    op.drop_table("release_files")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releases_sort_key"))
        batch_op.drop_index(batch_op.f("ix_releases_package_id"))
        batch_op.drop_index(batch_op.f("ix_releases_minor_ver"))
        batch_op.drop_index(batch_op.f("ix_releases_major_ver"))
        batch_op.drop_index(batch_op.f("ix_releases_created_date"))
        batch_op.drop_index(batch_op.f("ix_releases_build_ver"))

    op.drop_table("releases")
    with op.batch_alter_table("package_languages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_languages_language_id"))
        batch_op.drop_index(batch_op.f("ix_package_languages_created_date"))

    op.drop_table("package_languages")
    with op.batch_alter_table("maintainers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintainers_package_id"))
        batch_op.drop_index(batch_op.f("ix_maintainers_created_date"))

    op.drop_table("maintainers")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_package_id"))
        batch_op.drop_index(batch_op.f("ix_audit_created_date"))
        batch_op.drop_index(batch_op.f("ix_audit_action"))

    op.drop_table("audit")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_tokens_package_id"))
        batch_op.drop_index(batch_op.f("ix_api_tokens_created_date"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packages_license_id"))
        batch_op.drop_index(batch_op.f("ix_packages_last_updated"))
        batch_op.drop_index(batch_op.f("ix_packages_created_date"))
        batch_op.drop_index(batch_op.f("ix_packages_author_email"))

    op.drop_table("packages")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_user_id"))
        batch_op.drop_index(batch_op.f("ix_journal_package_id"))
        batch_op.drop_index(batch_op.f("ix_journal_created_date"))

    op.drop_table("journal")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_last_login"))
        batch_op.drop_index(batch_op.f("ix_users_email"))
        batch_op.drop_index(batch_op.f("ix_users_created_date"))

    op.drop_table("users")
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenses_created_date"))

    op.drop_table("licenses")
    with op.batch_alter_table("languages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_languages_created_date"))

    op.drop_table("languages")
    with op.batch_alter_table("file_registry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_registry_created_date"))

    op.drop_table("file_registry")
