"""The authors and maintainers a PyPI JSON document names, as users of the project.

Each valid address becomes one user who cannot log in (no password) until the operator
gives the account one; an address already known is that user. Authors become owners and
maintainers maintainers, and a link that is already there keeps the role it has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from sqlalchemy.orm import Session

from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services.accounts.users import find_user_by_email, normalize_email
from wheelyard.services.ops.importers.pypi_documents import column_width, fit, text_of

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# "Ada Lovelace; Charles Babbage" beside "ada@x, charles@y": one name per address.
_NAME_SEPARATORS = re.compile(r"\s*[,;]\s*")
_BRACKETED_ADDRESS = re.compile(r"\s*<[^>]*>")


@dataclass(frozen=True)
class Person:
    name: str
    email: str  # normalized


def people_in(names: object, emails: object) -> list[Person]:
    """One person per valid address in ``emails``, named as well as the metadata allows."""
    text = text_of(emails)
    if text is None:
        return []
    parsed = [(display, address) for display, address in getaddresses([text]) if address]
    valid = [
        (display, normalize_email(address))
        for display, address in parsed
        if len(address) <= column_width(User, "email") and _ADDRESS.match(address)
    ]
    whole = text_of(names)
    paired = _NAME_SEPARATORS.split(whole) if whole else []
    people = []
    for position, (display, address) in enumerate(valid):
        if display:
            name = display
        elif len(paired) == len(valid) and len(valid) > 1:
            name = paired[position]
        else:
            name = whole or address
        name = _BRACKETED_ADDRESS.sub("", name).strip() or address
        people.append(Person(fit(name, User, "name") or address, address))
    return people


def add_people(db: Session, package: Package, info: Mapping[str, Any]) -> int:
    """Link the authors (owners) and maintainers to the project; return the users created."""
    owners = people_in(info.get("author"), info.get("author_email"))
    maintainers = people_in(info.get("maintainer"), info.get("maintainer_email"))
    roles: dict[str, tuple[Person, Role]] = {}
    # Owners first, so someone listed both ways stays an owner.
    for person in owners:
        roles.setdefault(person.email, (person, Role.OWNER))
    for person in maintainers:
        roles.setdefault(person.email, (person, Role.MAINTAINER))
    created = 0
    for person, role in roles.values():
        user = find_user_by_email(db, person.email)
        if user is None:
            user = User(name=person.name, email=person.email, hashed_password=None)
            db.add(user)
            db.flush()
            created += 1
        # An existing link keeps its role: the operator may have changed it since.
        if db.get(Maintainer, (user.id, package.id)) is None:
            db.add(Maintainer(user_id=user.id, package_id=package.id, role=role))
    return created
