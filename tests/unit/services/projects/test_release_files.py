"""services.projects.release_files: where a release file is downloaded from and stored beside."""

from __future__ import annotations

from tests.helpers.factories import Factory
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.projects import release_files


def test_file_url_of_a_stored_file_is_under_packages(make: Factory) -> None:
    release_file = make.package("p").releases[0].files[0]
    release_file.storage_path = f"ab/cd/{'0' * 60}/p-1.0+cpu-py3-none-any.whl"
    release_file.url = "https://upstream.example.org/p.whl"

    assert (
        release_files.file_url(release_file)
        == f"/packages/ab/cd/{'0' * 60}/p-1.0+cpu-py3-none-any.whl"
    )


def test_file_url_of_an_imported_file_is_upstream(make: Factory) -> None:
    release_file = make.package("p").releases[0].files[0]
    release_file.url = "https://upstream.example.org/p.whl"
    assert release_files.file_url(release_file) == "https://upstream.example.org/p.whl"

    release_file.url = None
    assert release_files.file_url(release_file) == ""


def test_metadata_path_sits_beside_the_blob() -> None:
    release_file = ReleaseFile(filename="demo-1.0-py3-none-any.whl", blake2_256_digest="ab" * 32)
    assert release_files.metadata_path(release_file) == (
        f"ab/ab/{'ab' * 30}/demo-1.0-py3-none-any.whl.metadata"
    )
    assert release_files.metadata_path(ReleaseFile(filename="x.whl")) is None
