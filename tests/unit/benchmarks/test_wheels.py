"""The large generated wheels: valid, as large as asked, incompressible and distinct."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
import zlib
from pathlib import Path

from benchmarks import wheels


def test_large_wheels_are_valid_and_as_large_as_asked(tmp_path: Path) -> None:
    paths = wheels.generate_large(tmp_path, 2, 1, prefix="yard-large")
    assert [p.name for p in paths] == [
        "yard_large-1.0.0-py3-none-any.whl",
        "yard_large-1.0.1-py3-none-any.whl",
    ]
    for path in paths:
        assert path.stat().st_size >= 1024 * 1024
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
            info = "yard_large-" + path.name.split("-")[1] + ".dist-info"
            record = archive.read(f"{info}/RECORD").decode().splitlines()
            for line in record:
                name, digest, _size = line.split(",")
                if not digest:
                    continue
                data = archive.read(name)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == f"sha256={expected.decode()}"
            assert "Name: yard-large" in archive.read(f"{info}/METADATA").decode()


def test_large_wheels_do_not_compress_and_differ(tmp_path: Path) -> None:
    first, second = (p.read_bytes() for p in wheels.generate_large(tmp_path, 2, 1))
    assert len(zlib.compress(first)) > 0.99 * len(first)
    assert first[-4096:] != second[-4096:]


def test_the_same_file_gets_the_same_bytes(tmp_path: Path) -> None:
    one = wheels.generate_large(tmp_path / "a", 1, 1)[0].read_bytes()
    again = wheels.generate_large(tmp_path / "b", 1, 1)[0].read_bytes()
    assert one == again


def test_tiny_wheels_are_unchanged_without_a_payload() -> None:
    tiny = wheels.build(wheels.TinyWheel("yard-bench-0", "1.0.0"))
    with zipfile.ZipFile(io.BytesIO(tiny)) as archive:
        assert not any(name.endswith("payload.bin") for name in archive.namelist())
