"""Rows keyed by their own name (licenses, languages): found, or added when new."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wheelyard.data.modelbase import SqlAlchemyBase

Named = TypeVar("Named", bound=SqlAlchemyBase)


def get_or_add(db: Session, model: type[Named], name: str) -> Named:
    """The ``model`` row whose id is ``name``, added when there is none yet."""
    found = db.get(model, name)
    if found is not None:
        return found
    row = model(id=name)
    try:
        # A savepoint: another transaction may add the same name at the same moment, and
        # losing that race must not spoil the caller's transaction.
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        found = db.get(model, name)
        if found is None:
            raise
        return found
    return row
