"""services.uploads.filenames: a distribution's filename against PyPI's rules."""

from __future__ import annotations

import io
import re

import pytest
from packaging.metadata import Metadata

from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.filenames import check_filename
from wheelyard.services.uploads.incoming import IncomingFile
from wheelyard.services.uploads.metadata import validate_metadata
from wheelyard.services.uploads.policy import IMPORT_POLICY, UPLOAD_POLICY, Policy


def metadata(name: str = "tiny-lib", version: str = "1.0") -> Metadata:
    return validate_metadata({"metadata_version": "2.1", "name": name, "version": version})


def check(filename: str, filetype: str, policy: Policy = UPLOAD_POLICY) -> str:
    incoming = IncomingFile(filename, io.BytesIO(b""), filetype)
    return check_filename(incoming, metadata(), policy)


@pytest.mark.parametrize(
    ("filename", "python_tag"),
    [
        ("tiny_lib-1.0-py3-none-any.whl", "py3"),
        ("tiny_lib-1.0-py2.py3-none-any.whl", "py2.py3"),
        ("tiny_lib-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "cp312"),
    ],
)
def test_a_wheels_filename_gives_its_python_tag(filename: str, python_tag: str) -> None:
    assert check(filename, "bdist_wheel") == python_tag


def test_an_sdists_filename_is_source() -> None:
    assert check("tiny_lib-1.0.tar.gz", "sdist") == "source"
    # Imports of old folders take .zip sdists and names as they were written.
    assert check("tiny_lib-1.0.zip", "sdist", IMPORT_POLICY) == "source"
    assert (
        check("Tiny_Lib-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl", "bdist_wheel", IMPORT_POLICY)
        == "cp312"
    )


@pytest.mark.parametrize(
    ("filename", "filetype", "message"),
    [
        (
            "TINY_LIB-1.0-py3-none-any.whl",
            "bdist_wheel",
            "write the project's name as 'tiny_lib'",
        ),
        ("Tiny_Lib-1.0-py3-none-any.whl", "bdist_wheel", "write the project's name as 'tiny_lib'"),
        ("tiny-lib-1.0-py3-none-any.whl", "bdist_wheel", "Start filename for 'tiny-lib'"),
        ("tiny_lib-01.0-py3-none-any.whl", "bdist_wheel", "write the version as '1.0'"),
        ("tiny_lib-1.0.0-py3-none-any.whl", "bdist_wheel", "write the version as '1.0'"),
        ("tiny_lib-1.0 -py3-none-any.whl", "bdist_wheel", "Invalid filename"),
        ("tiny_lib-1.0-py3-none-any (1).whl", "bdist_wheel", "Invalid filename"),
        ("tiny_lib-01.0.tar.gz", "sdist", "write the version as '1.0'"),
        ("tiny_lib-1.0.zip", "sdist", "an sdist is a .tar.gz (PEP 625)"),
    ],
)
def test_only_canonical_filenames_are_taken(filename: str, filetype: str, message: str) -> None:
    with pytest.raises(UploadError, match=re.escape(message)):
        check(filename, filetype)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("tiny_lib-1.0-py3-none-any.egg", "Invalid file extension: use .tar.gz, .whl or .zip."),
        ("../tiny_lib-1.0-py3-none-any.whl", "Invalid filename"),
        (".tiny_lib-1.0-py3-none-any.whl", "Invalid filename"),
        ("tiny_lib-1.0-py3-none-any\n.whl", "Invalid filename"),
        ("t" * 252 + ".whl", "Invalid filename"),
        (
            "tiny_lib-1.0.tar.gz",
            "Invalid distribution file: 'tiny_lib-1.0.tar.gz' is not of filetype 'bdist_wheel'.",
        ),
        ("other_lib-1.0-py3-none-any.whl", "Start filename for 'tiny-lib' with 'tiny_lib'."),
        ("tiny_lib-2.0-py3-none-any.whl", "Version in filename should be '1.0' not '2.0'."),
        ("tiny_lib-1.0-py3-none.whl", "Invalid wheel filename"),
    ],
)
def test_a_bad_wheel_filename_is_refused(filename: str, message: str) -> None:
    with pytest.raises(UploadError) as caught:
        check(filename, "bdist_wheel")
    assert caught.value.status == 400
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("Tiny-Lib-1.0.tar.gz", "Start filename for 'tiny-lib' with 'tiny_lib'."),
        ("tiny-lib-1.0.tar.gz", "Start filename for 'tiny-lib' with 'tiny_lib'."),
        ("tiny_lib-.tar.gz", "Invalid sdist filename"),
        ("other-1.0.tar.gz", "Start filename for 'tiny-lib' with 'tiny_lib'."),
    ],
)
def test_a_bad_sdist_filename_is_refused(filename: str, message: str) -> None:
    with pytest.raises(UploadError) as caught:
        check(filename, "sdist")
    assert caught.value.message.startswith(message)


def test_an_import_is_spared_pep_625_sdist_names() -> None:
    assert check("tiny-lib-1.0.tar.gz", "sdist", IMPORT_POLICY) == "source"
    assert check("Tiny-Lib-1.0.tar.gz", "sdist", IMPORT_POLICY) == "source"
    with pytest.raises(UploadError):
        check("other-1.0.tar.gz", "sdist", IMPORT_POLICY)
