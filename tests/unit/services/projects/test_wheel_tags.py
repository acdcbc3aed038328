"""Wheel tags in words, as the file list shows them."""

from __future__ import annotations

import pytest

from wheelyard.services.projects.wheel_tags import describe, interpreter_name, platform_name


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("six-1.17.0-py2.py3-none-any.whl", "Python 2, Python 3"),
        ("flask-3.1.3-py3-none-any.whl", "Python 3"),
        (
            "markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64"
            ".manylinux_2_28_x86_64.whl",
            "CPython 3.11, manylinux: glibc 2.17+ x86-64, manylinux: glibc 2.28+ x86-64",
        ),
        ("x-1.0-cp312-cp312-macosx_11_0_arm64.whl", "CPython 3.12, macOS 11.0+ ARM64"),
        ("x-1.0-cp312-cp312-win_amd64.whl", "CPython 3.12, Windows x86-64"),
        ("x-1.0-cp39-cp39-win32.whl", "CPython 3.9, Windows x86"),
        (
            "x-1.0-pp310-pypy310_pp73-musllinux_1_2_aarch64.whl",
            "PyPy 3.10, musllinux: musl 1.2+ ARM64",
        ),
        ("x-1.0-cp313-cp313-linux_armv7l.whl", "CPython 3.13, Linux ARMv7l"),
    ],
)
def test_wheel_filenames_read_as_words(filename: str, expected: str) -> None:
    assert describe(filename) == expected


@pytest.mark.parametrize("filename", ["x-1.0.tar.gz", "not a wheel.whl", "x-1.0-py3.whl"])
def test_anything_else_has_no_description(filename: str) -> None:
    assert describe(filename) is None


def test_unknown_tags_are_shown_as_they_are() -> None:
    assert interpreter_name("zz42") == "zz42"
    assert platform_name("plan9_mips") == "plan9_mips"
    assert platform_name("any") == ""
