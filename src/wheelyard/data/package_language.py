from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class PackageLanguage(SqlAlchemyBase):
    """Links a package to the languages its "Programming Language ::" classifiers name."""

    __tablename__ = "package_languages"

    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed on its own for "packages in this language" (the PK leads with package_id).
    language_id: Mapped[str] = mapped_column(
        sa.ForeignKey("languages.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_date: Mapped[dt.datetime] = created_date_column()
