"""Where the links of an sdist lead once unpacked, resolved through each other.

A link that looks harmless alone can escape in company: with ``a -> .``, the link
``b -> a/a/a/../../..`` climbs three folders above the target, though its text alone
normalises to ``.``. Python's ``tarfile`` ``data`` filter catches this by resolving each
link on the disk it unpacks to. Nothing is unpacked here, so the archive's own links are
followed instead, as the disk would follow them: each path is walked a part at a time,
a part that is a link of the archive replaced by where that link points.
"""

from __future__ import annotations

import posixpath

# A chain of links longer than this is a loop (the kernel's ELOOP limit is 40).
MAX_LINK_HOPS = 40


class EscapingLink(Exception):
    """A link of the archive that leads outside it (or nowhere, round a loop)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


class ArchiveLinks:
    """The links of one archive, each checked as it comes and all again at the end (a later
    link can change where an earlier one leads)."""

    def __init__(self) -> None:
        self._symlinks: dict[str, str] = {}  # member path -> its target, as written
        self._hardlinks: dict[str, str] = {}  # member path -> the archive path it names

    def add_symlink(self, name: str, target: str) -> None:
        name = posixpath.normpath(name)
        self._symlinks[name] = target
        self._check_symlink(name, target)

    def add_hardlink(self, name: str, target: str) -> None:
        name = posixpath.normpath(name)
        self._hardlinks[name] = target
        self._check(name, target)

    def check_all(self) -> None:
        for name, target in self._symlinks.items():
            self._check_symlink(name, target)
        for name, target in self._hardlinks.items():
            self._check(name, target)

    def _check_symlink(self, name: str, target: str) -> None:
        # A symbolic link's target is read from the folder the link is in.
        self._check(name, posixpath.join(posixpath.dirname(name), target))

    def _check(self, name: str, path: str) -> None:
        if path.startswith("/") or self.resolve(path) is None:
            raise EscapingLink(name)

    def resolve(self, path: str) -> list[str] | None:
        """The folders ``path`` leads through from the archive's root, links followed;
        None when it climbs above the root or round a loop."""
        resolved: list[str] = []
        pending = list(reversed(_parts(path)))
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if not resolved:
                    return None
                resolved.pop()
                continue
            here = "/".join([*resolved, part])
            target = self._symlinks.get(here)
            if target is None:
                resolved.append(part)
                continue
            hops += 1
            if hops > MAX_LINK_HOPS or target.startswith("/"):
                return None
            pending.extend(reversed(_parts(target)))
        return resolved
