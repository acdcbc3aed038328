"""Reading wheels and sdists safely: what is accepted, and every archive that is refused."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers.dists import Dist, Project, sdist, wheel
from tests.helpers.environment import SHARED_DATA
from wheelyard.services.uploads import archives
from wheelyard.services.uploads.archives import (
    SDIST,
    WHEEL,
    DistributionError,
    read_distribution,
)

PROJECT = Project("tiny-lib", "1.0")
METADATA = PROJECT.core_metadata().encode()
DIST_INFO = "tiny_lib-1.0.dist-info"


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes], *specials: tarfile.TarInfo) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in specials:
            archive.addfile(info)
    return buffer.getvalue()


def read(content: bytes, filename: str) -> archives.DistributionMetadata:
    return read_distribution(io.BytesIO(content), filename)


def refusal(content: bytes, filename: str) -> str:
    with pytest.raises(DistributionError) as caught:
        read(content, filename)
    return str(caught.value)


# --- accepted -------------------------------------------------------------------------------


def test_reads_a_wheels_metadata() -> None:
    dist = wheel(PROJECT)
    found = read(dist.content, dist.filename)
    assert found.packagetype == WHEEL
    assert found.metadata == dist.metadata.encode()
    assert found.member == f"{DIST_INFO}/METADATA"


def test_reads_an_sdists_pkg_info() -> None:
    dist = sdist(PROJECT)
    found = read(dist.content, dist.filename)
    assert found.packagetype == SDIST
    assert found.metadata == dist.metadata.encode()
    assert found.member == "tiny_lib-1.0/PKG-INFO"


def test_reads_a_zip_sdist() -> None:
    content = zip_bytes({"tiny_lib-1.0/PKG-INFO": METADATA, "tiny_lib-1.0/setup.py": b""})
    found = read(content, "tiny_lib-1.0.zip")
    assert (found.packagetype, found.metadata) == (SDIST, METADATA)


def test_an_sdist_with_an_unusual_top_directory_still_has_its_pkg_info() -> None:
    content = tar_gz_bytes({"Tiny-Lib-1.0/PKG-INFO": METADATA})
    assert read(content, "tiny_lib-1.0.tar.gz").member == "Tiny-Lib-1.0/PKG-INFO"


def test_the_wheels_own_dist_info_is_chosen_among_several() -> None:
    content = zip_bytes(
        {
            "vendored-2.0.dist-info/METADATA": b"Name: vendored\n",
            f"{DIST_INFO}/METADATA": METADATA,
        }
    )
    assert read(content, "tiny_lib-1.0-py3-none-any.whl").metadata == METADATA


def test_leaves_the_file_at_its_start() -> None:
    dist = wheel(PROJECT)
    source = io.BytesIO(dist.content)
    read_distribution(source, dist.filename)
    assert source.tell() == 0


def test_small_archives_of_tiny_files_are_not_taken_for_bombs() -> None:
    # tar pads every member to 512 bytes, so this compresses far beyond 50:1.
    members = {f"tiny_lib-1.0/m{n}.py": b"x" for n in range(300)}
    content = tar_gz_bytes({**members, "tiny_lib-1.0/PKG-INFO": METADATA})
    assert read(content, "tiny_lib-1.0.tar.gz").metadata == METADATA


def test_packagetype_of() -> None:
    assert archives.packagetype_of("a-1.0-py3-none-any.whl") == WHEEL
    assert archives.packagetype_of("a-1.0.tar.gz") == SDIST
    assert archives.packagetype_of("a-1.0.zip") == SDIST
    assert archives.packagetype_of("a-1.0.egg") is None
    assert archives.packagetype_of("a-1.0.tar.bz2") is None


def real_dists() -> list[Path]:
    directory = SHARED_DATA / "dists"
    return sorted(directory.iterdir()) if directory.is_dir() else []


@pytest.mark.skipif(not real_dists(), reason="the real-world dists folder is not present")
def test_every_real_world_distribution_is_readable() -> None:
    for path in real_dists():
        with path.open("rb") as source:
            found = read_distribution(source, path.name)
        assert found.metadata.startswith(b"Metadata-Version: "), path.name


# --- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "member",
    ["/etc/evil", "../evil", "tiny_lib/../../evil", "..\\evil", "C:/evil", "a/..\\..\\evil"],
)
def test_a_wheel_member_outside_the_target_is_refused(member: str) -> None:
    content = zip_bytes({f"{DIST_INFO}/METADATA": METADATA, member: b"x"})
    message = refusal(content, "tiny_lib-1.0-py3-none-any.whl")
    assert repr(member) in message
    assert "absolute" in message or "outside" in message


@pytest.mark.parametrize("member", ["/etc/evil", "tiny_lib-1.0/../../evil"])
def test_an_sdist_member_outside_the_target_is_refused(member: str) -> None:
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA, member: b"x"})
    assert repr(member) in refusal(content, "tiny_lib-1.0.tar.gz")


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        (tarfile.SYMTYPE, "../../etc/passwd"),
        (tarfile.SYMTYPE, "/etc/passwd"),
        (tarfile.LNKTYPE, "/etc"),
    ],
)
def test_an_sdist_link_out_of_the_archive_is_refused(kind: bytes, target: str) -> None:
    link = tarfile.TarInfo("tiny_lib-1.0/link")
    link.type = kind
    link.linkname = target
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, link)
    assert "links outside the archive" in refusal(content, "tiny_lib-1.0.tar.gz")


def links(*pairs: tuple[str, str], kind: bytes = tarfile.SYMTYPE) -> list[tarfile.TarInfo]:
    members = []
    for name, target in pairs:
        member = tarfile.TarInfo(f"tiny_lib-1.0/{name}")
        member.type = kind
        member.linkname = target
        members.append(member)
    return members


@pytest.mark.parametrize(
    "chain",
    [
        # Each link alone normalises to a path inside; followed through the other, it is not.
        [("a", "."), ("b", "a/a/a/../../..")],
        [("sub", ".."), ("sub2", "sub/..")],
        [("up", "x/../.."), ("x", "..")],
        [("loop", "loop/x")],
    ],
)
def test_chained_sdist_links_that_escape_are_refused(chain: list[tuple[str, str]]) -> None:
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, *links(*chain))
    assert "links outside the archive" in refusal(content, "tiny_lib-1.0.tar.gz")


def test_a_hard_link_through_a_symlink_that_escapes_is_refused() -> None:
    escape = links(("out", "../.."))  # tiny_lib-1.0/out -> two folders up: refused alone
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, *escape)
    assert "links outside the archive" in refusal(content, "tiny_lib-1.0.tar.gz")
    inside = links(("docs", "."))
    hard = links(("hard", "tiny_lib-1.0/docs/../../x"), kind=tarfile.LNKTYPE)
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, *inside, *hard)
    assert "'tiny_lib-1.0/hard' links outside the archive" in refusal(
        content, "tiny_lib-1.0.tar.gz"
    )


def test_chained_links_that_stay_inside_are_fine() -> None:
    chain = links(("a", "."), ("docs", "a/a/sub"), ("readme", "docs/../PKG-INFO"))
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, *chain)
    assert read(content, "tiny_lib-1.0.tar.gz").metadata == METADATA


def test_duplicate_sdist_members_are_refused() -> None:
    again = tarfile.TarInfo("tiny_lib-1.0/PKG-INFO")
    again.size = 0
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, again)
    assert "more than one member named 'tiny_lib-1.0/PKG-INFO'" in refusal(
        content, "tiny_lib-1.0.tar.gz"
    )


def test_an_sdist_link_inside_the_archive_is_fine() -> None:
    link = tarfile.TarInfo("tiny_lib-1.0/docs/readme")
    link.type = tarfile.SYMTYPE
    link.linkname = "../PKG-INFO"
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, link)
    assert read(content, "tiny_lib-1.0.tar.gz").metadata == METADATA


def test_an_sdist_with_a_device_file_is_refused() -> None:
    device = tarfile.TarInfo("tiny_lib-1.0/null")
    device.type = tarfile.CHRTYPE
    content = tar_gz_bytes({"tiny_lib-1.0/PKG-INFO": METADATA}, device)
    assert "not a regular file" in refusal(content, "tiny_lib-1.0.tar.gz")


def test_a_zip_bomb_is_refused_without_inflating_it() -> None:
    bomb = b"\0" * (archives.RATIO_EXEMPT_SIZE * 2)
    content = zip_bytes({f"{DIST_INFO}/METADATA": METADATA, "tiny_lib/zeros.bin": bomb})
    assert "compression ratio limit" in refusal(content, "tiny_lib-1.0-py3-none-any.whl")


def test_a_gzip_bomb_is_refused() -> None:
    bomb = b"\0" * (archives.RATIO_EXEMPT_SIZE * 2)
    content = tar_gz_bytes({"tiny_lib-1.0/zeros.bin": bomb, "tiny_lib-1.0/PKG-INFO": METADATA})
    assert "compression ratio limit" in refusal(content, "tiny_lib-1.0.tar.gz")


def test_an_archive_unpacking_beyond_the_hard_cap_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archives, "MAX_UNPACKED_SIZE", 1000)
    dist = sdist(PROJECT)
    assert "compression ratio limit" in refusal(dist.content, dist.filename)


def test_a_wheel_without_metadata_is_refused() -> None:
    content = zip_bytes({"tiny_lib/__init__.py": b""})
    message = refusal(content, "tiny_lib-1.0-py3-none-any.whl")
    assert f"{DIST_INFO}/METADATA" in message


def test_a_wheel_whose_metadata_belongs_to_another_project_is_refused() -> None:
    content = zip_bytes({"other-1.0.dist-info/METADATA": METADATA})
    assert "METADATA" in refusal(content, "tiny_lib-1.0-py3-none-any.whl")


def test_a_wheel_with_two_metadata_files_for_itself_is_refused() -> None:
    content = zip_bytes(
        {f"{DIST_INFO}/METADATA": METADATA, "Tiny_Lib-1.0.dist-info/METADATA": METADATA}
    )
    assert "exactly one METADATA" in refusal(content, "tiny_lib-1.0-py3-none-any.whl")


def test_an_sdist_without_pkg_info_is_refused() -> None:
    content = tar_gz_bytes({"tiny_lib-1.0/setup.py": b""})
    assert "PKG-INFO" in refusal(content, "tiny_lib-1.0.tar.gz")


def test_oversized_metadata_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_METADATA_SIZE", 10)
    dist = wheel(PROJECT)
    assert "larger than metadata can be" in refusal(dist.content, dist.filename)
    dist = sdist(PROJECT)
    assert "larger than metadata can be" in refusal(dist.content, dist.filename)


@pytest.mark.parametrize("dist", [wheel(PROJECT), sdist(PROJECT)], ids=["wheel", "sdist"])
def test_a_truncated_archive_is_refused(dist: Dist) -> None:
    assert "cannot be read" in refusal(dist.content[: len(dist.content) // 2], dist.filename)


def test_a_tar_gz_that_is_not_gzip_is_refused() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("tiny_lib-1.0/PKG-INFO")
        info.size = len(METADATA)
        archive.addfile(info, io.BytesIO(METADATA))
    assert "cannot be read" in refusal(buffer.getvalue(), "tiny_lib-1.0.tar.gz")


def test_a_wheel_that_is_not_a_zip_is_refused() -> None:
    assert "cannot be read" in refusal(b"not a zip at all", "tiny_lib-1.0-py3-none-any.whl")


def test_an_unknown_format_is_refused() -> None:
    assert "Unknown distribution format" in refusal(b"", "tiny_lib-1.0.egg")
