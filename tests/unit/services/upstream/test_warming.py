"""Which requirements a file names, and which version's files warming fetches for each."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.requirements import Requirement

from wheelyard.services.upstream.documents import UpstreamFile, UpstreamListing
from wheelyard.services.upstream.warming import RequirementsError, choose, parse_requirements


def file(filename: str, *, yanked: bool = False) -> UpstreamFile:
    return UpstreamFile(filename, f"https://up/{filename}", "0" * 64, 1, None, None, yanked,
                        None, None)  # fmt: skip


LISTING = UpstreamListing(
    ("1.0", "1.5", "2.0rc1", "2.0"),
    (
        file("demo-1.0-py3-none-any.whl"),
        file("demo-1.0.tar.gz"),
        file("demo-1.5-py3-none-any.whl"),
        file("demo-1.5-cp311-cp311-manylinux_2_17_x86_64.whl"),
        file("demo-1.5.tar.gz"),
        file("demo-2.0rc1-py3-none-any.whl"),
        file("demo-2.0-py3-none-any.whl", yanked=True),
    ),
)


def test_requirement_lines_skip_comments_options_and_trailing_hashes() -> None:
    text = (
        "# pins\n\n-r other.txt\nDemo>=1.0  # ok\nother==2.0 --hash=sha256:ab \\\n--index-url x\n"
    )
    lines = parse_requirements(text)
    assert [(line.number, str(line.requirement)) for line in lines] == [
        (4, "Demo>=1.0"),
        (5, "other==2.0"),
    ]


def test_a_bad_line_names_its_number() -> None:
    with pytest.raises(RequirementsError, match="line 2"):
        parse_requirements("demo\ndemo >>> 1\n")


def test_the_newest_admitted_version_with_all_its_files() -> None:
    version, files = choose(LISTING, Requirement("demo"))
    assert str(version) == "1.5"
    assert len(files) == 3
    assert str(choose(LISTING, Requirement("demo<1.5"))[0]) == "1.0"


def test_pre_releases_and_yanked_files_only_when_asked_for() -> None:
    assert str(choose(LISTING, Requirement("demo>=2.0rc1"))[0]) == "2.0rc1"
    assert str(choose(LISTING, Requirement("demo==2.0"))[0]) == "2.0"
    with pytest.raises(LookupError, match="demo>3"):
        choose(LISTING, Requirement("demo>3"))
    only_pre = dataclasses.replace(LISTING, files=(file("demo-3.0b1.tar.gz"),))
    assert str(choose(only_pre, Requirement("demo"))[0]) == "3.0b1"
