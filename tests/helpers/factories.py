"""Factories for test data: small, explicit, one method per model."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from sqlalchemy.orm import Session

from tests.helpers.dists import Dist
from tests.helpers.passwords import PASSWORD
from wheelyard.data.language import Language
from wheelyard.data.license import License
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services.accounts.passwords import Passwords
from wheelyard.services.naming import normalize_name
from wheelyard.storage.base import FileStorage

_sequence = itertools.count(1)


class Factory:
    def __init__(self, db: Session, passwords: Passwords) -> None:
        self.db = db
        self.passwords = passwords

    def user(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        password: str | None = PASSWORD,
        is_admin: bool = False,
        email_verified: bool = True,
    ) -> User:
        # Verified unless asked: the accounts tests start from stand for ones an operator
        # made, or that followed their link.
        n = next(_sequence)
        user = User(
            name=name or f"User {n}",
            email=(email or f"user{n}@example.com").lower(),
            hashed_password=self.passwords.hash(password) if password else None,
            is_admin=is_admin,
            email_verified=email_verified,
        )
        self.db.add(user)
        self.db.flush()
        return user

    def license(self, name: str = "MIT") -> License:
        license = self.db.get(License, name) or License(id=name)
        self.db.add(license)
        return license

    def language(self, name: str = "Python 3") -> Language:
        language = self.db.get(Language, name) or Language(id=name)
        self.db.add(language)
        return language

    def package(
        self,
        name: str | None = None,
        *,
        versions: tuple[str, ...] = ("1.0",),
        summary: str | None = "A package for tests",
        description: str | None = None,
        description_content_type: str | None = None,
        owner: User | None = None,
        license: License | None = None,
        languages: tuple[Language, ...] = (),
    ) -> Package:
        name = name or f"package-{next(_sequence)}"
        package = Package(
            id=normalize_name(name),
            name=name,
            summary=summary,
            description=description,
            description_content_type=description_content_type,
            author_name="Ada Author",
            author_email="ada@example.com",
            license=license,
            languages=list(languages),
        )
        self.db.add(package)
        for version in versions:
            self.release(package, version)
        if owner is not None:
            self.db.add(Maintainer(user=owner, package=package, role=Role.OWNER))
        self.db.flush()
        return package

    def release(
        self,
        package: Package,
        version: str,
        *,
        yanked: bool = False,
        created: dt.datetime | None = None,
        with_file: bool = True,
    ) -> Release:
        release = Release(package=package, version=version, yanked=yanked)
        if created is not None:
            release.created_date = created
        self.db.add(release)
        if with_file:
            self.file(release)
        self.db.flush()
        return release

    def file(self, release: Release, *, packagetype: str = "bdist_wheel") -> ReleaseFile:
        n = next(_sequence)
        dist = release.package.id.replace("-", "_")
        filename = (
            f"{dist}-{release.version}-py3-none-any.whl"
            if packagetype == "bdist_wheel"
            else f"{dist}-{release.version}.tar.gz"
        )
        content = f"{filename}{n}".encode()
        release_file = ReleaseFile(
            release=release,
            filename=filename,
            packagetype=packagetype,
            python_version="py3" if packagetype == "bdist_wheel" else "source",
            size=len(content) * 100,
            sha256_digest=hashlib.sha256(content).hexdigest(),
            blake2_256_digest=hashlib.blake2b(content, digest_size=32).hexdigest(),
            md5_digest=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        )
        self.db.add(release_file)
        return release_file

    def stored_file(self, release: Release, dist: Dist, storage: FileStorage) -> ReleaseFile:
        """A file of ``release`` whose bytes really are in ``storage``, with true digests.

        A wheel also gets its METADATA stored beside it (PEP 658), where uploads put it.
        """
        # Imported here so that the rest of the factory needs no storage or dists.
        import io
        from email.parser import HeaderParser

        from wheelyard.services.projects.release_files import metadata_path
        from wheelyard.storage.base import content_path

        content = dist.content
        blake2 = hashlib.blake2b(content, digest_size=32).hexdigest()
        is_wheel = dist.filename.endswith(".whl")
        release_file = ReleaseFile(
            release=release,
            filename=dist.filename,
            packagetype="bdist_wheel" if is_wheel else "sdist",
            python_version=dist.filename.split("-")[-3] if is_wheel else "source",
            size=len(content),
            sha256_digest=hashlib.sha256(content).hexdigest(),
            blake2_256_digest=blake2,
            md5_digest=hashlib.md5(content, usedforsecurity=False).hexdigest(),
            requires_python=HeaderParser().parsestr(dist.metadata)["Requires-Python"],
            storage_path=content_path(blake2, dist.filename),
        )
        storage.put(content_path(blake2, dist.filename), io.BytesIO(content))
        if is_wheel:
            metadata = dist.metadata.encode()
            release_file.metadata_sha256 = hashlib.sha256(metadata).hexdigest()
            path = metadata_path(release_file)
            assert path is not None
            storage.put(path, io.BytesIO(metadata))
        self.db.add(release_file)
        self.db.flush()
        return release_file
