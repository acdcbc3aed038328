"""Browsing by license and by language: each with its package count, and its packages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from wheelyard.data.language import Language
from wheelyard.data.license import License
from wheelyard.data.package import Package
from wheelyard.data.package_language import PackageLanguage
from wheelyard.services.access.visibility import public_only
from wheelyard.services.discovery.pagination import Page, paginate

# Both id columns are String(200) or shorter: a longer id cannot exist, so it is not looked up.
MAX_ID_LENGTH = 200

# How an index of licenses or languages is ordered: by number of projects (most first, ties
# by name), or alphabetically.
Sort = Literal["projects", "name"]
SORTS: tuple[Sort, ...] = ("projects", "name")


@dataclass(frozen=True)
class Facet:
    """A license or language and how many packages have it."""

    id: str
    description: str | None
    package_count: int


def _plausible_id(value: str) -> bool:
    # PostgreSQL refuses NUL in text parameters; such an id cannot be stored, so it is unknown.
    return 0 < len(value) <= MAX_ID_LENGTH and "\x00" not in value


def _ordering(
    name: InstrumentedAttribute[str], count: sa.ColumnElement[int], sort: Sort
) -> list[sa.ColumnElement[Any]]:
    # Case-folded, so that "cython" sorts among the Cs and not after every capitalised name,
    # whatever the database's collation; the raw id last keeps the order total.
    by_name: list[sa.ColumnElement[Any]] = [sa.func.lower(name), name.expression]
    return by_name if sort == "name" else [count.desc(), *by_name]


def license_counts(db: Session, sort: Sort = "projects") -> list[Facet]:
    """Every license with its package count: the most used first, or by name."""
    count = sa.func.count(Package.id)
    query = (
        sa.select(License.id, License.description, count)
        # Private projects count nowhere: their licenses would say they exist.
        .outerjoin(Package, sa.and_(Package.license_id == License.id, public_only()))
        .group_by(License.id, License.description)
        .order_by(*_ordering(License.id, count, sort))
    )
    return [Facet(id, description, total) for id, description, total in db.execute(query)]


def language_counts(db: Session, sort: Sort = "projects") -> list[Facet]:
    """Every language with its package count: the most used first, or by name."""
    count = sa.func.count(Package.id)
    query = (
        sa.select(Language.id, Language.description, count)
        .outerjoin(PackageLanguage, PackageLanguage.language_id == Language.id)
        .outerjoin(Package, sa.and_(Package.id == PackageLanguage.package_id, public_only()))
        .group_by(Language.id, Language.description)
        .order_by(*_ordering(Language.id, count, sort))
    )
    return [Facet(id, description, total) for id, description, total in db.execute(query)]


def find_license(db: Session, license_id: str) -> License | None:
    return db.get(License, license_id) if _plausible_id(license_id) else None


def find_language(db: Session, language_id: str) -> Language | None:
    return db.get(Language, language_id) if _plausible_id(language_id) else None


def packages_with_license(db: Session, license_id: str, page: int, page_size: int) -> Page[Package]:
    query = (
        sa.select(Package)
        .where(Package.license_id == license_id, public_only())
        .order_by(Package.id)
    )
    return paginate(db, query, page, page_size)


def packages_in_language(db: Session, language_id: str, page: int, page_size: int) -> Page[Package]:
    query = (
        sa.select(Package)
        .join(PackageLanguage, PackageLanguage.package_id == Package.id)
        .where(PackageLanguage.language_id == language_id, public_only())
        .order_by(Package.id)
    )
    return paginate(db, query, page, page_size)
