from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.package import Package

# Every trove classifier is far shorter; a longer one is not a classifier anyone can search for.
MAX_CLASSIFIER_LENGTH = 255


class PackageClassifier(SqlAlchemyBase):
    """One trove classifier a package's newest metadata declares, for filtering searches."""

    __tablename__ = "package_classifiers"

    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed on its own for "every package with this classifier" (the PK leads with package).
    classifier: Mapped[str] = mapped_column(
        sa.String(MAX_CLASSIFIER_LENGTH), primary_key=True, index=True
    )
    created_date: Mapped[dt.datetime] = created_date_column()

    # One-way: the unit of work then inserts a new package before its classifiers. Deleting
    # a package leaves these rows to the foreign key's ON DELETE CASCADE.
    package: Mapped[Package] = relationship()
