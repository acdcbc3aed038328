"""services.uploads.archive_links: links resolved through each other, as unpacking would."""

from __future__ import annotations

import pytest

from wheelyard.services.uploads.archive_links import ArchiveLinks, EscapingLink


def test_paths_resolve_through_links() -> None:
    links = ArchiveLinks()
    links.add_symlink("pkg/a", ".")
    links.add_symlink("pkg/docs", "a/a/sub")
    assert links.resolve("pkg/docs/file") == ["pkg", "sub", "file"]
    assert links.resolve("pkg/a/a/..") == []  # pkg/a/a is pkg itself
    assert links.resolve("pkg/a/a/../..") is None


def test_a_link_escaping_through_another_is_refused_as_it_comes() -> None:
    links = ArchiveLinks()
    links.add_symlink("pkg/a", ".")
    with pytest.raises(EscapingLink) as caught:
        links.add_symlink("pkg/b", "a/a/a/../../..")
    assert caught.value.name == "pkg/b"


def test_a_later_link_can_make_an_earlier_one_escape() -> None:
    links = ArchiveLinks()
    links.add_symlink("pkg/up", "x/../..")  # inside while x is a plain folder
    links.add_symlink("pkg/x", "..")  # inside on its own
    with pytest.raises(EscapingLink):
        links.check_all()


def test_absolute_targets_and_loops_escape() -> None:
    with pytest.raises(EscapingLink):
        ArchiveLinks().add_symlink("pkg/etc", "/etc")
    with pytest.raises(EscapingLink):
        ArchiveLinks().add_symlink("pkg/loop", "loop/x")
    with pytest.raises(EscapingLink):
        ArchiveLinks().add_hardlink("pkg/hard", "../outside")
