from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from wheelyard import versions


def test_minor_ten_sorts_after_nine() -> None:
    assert versions.sort_key("1.10") > versions.sort_key("1.9")


def test_release_candidate_sorts_before_final() -> None:
    assert versions.sort_key("2.0rc1") < versions.sort_key("2.0")


def test_trailing_zeros_are_equal() -> None:
    assert versions.sort_key("1.0") == versions.sort_key("1.0.0")


def test_known_order() -> None:
    ordered = [
        "0.9-doduo",  # not PEP 440: below every valid version
        "1.0.dev1",
        "1.0a1",
        "1.0a2.post1",
        "1.0b1",
        "1.0rc1",
        "1.0",
        "1.0+local.abc",
        "1.0+local.1",
        "1.0.post1.dev1",
        "1.0.post1",
        "1.1",
        "1.9",
        "1.10",
        "2!0.1",
    ]
    rotated = ordered[5:] + ordered[:5]
    assert sorted(rotated, key=versions.sort_key) == ordered


def test_parse_keeps_prerelease_and_numbers() -> None:
    parsed = versions.parse("2.0b1")
    assert (parsed.text, parsed.major, parsed.minor, parsed.build) == ("2.0b1", 2, 0, 0)
    assert parsed.is_prerelease
    assert versions.parse("3.4.5.6").build == 5


def test_invalid_version_is_kept_as_legacy() -> None:
    parsed = versions.parse("0.9-doduo")
    assert not parsed.is_valid
    assert (parsed.major, parsed.minor, parsed.build) == (0, 9, 0)


_numbers = st.integers(min_value=0, max_value=10**12)
_pep440 = st.builds(
    lambda epoch, release, pre, post, dev, local: (
        (f"{epoch}!" if epoch else "")
        + ".".join(str(n) for n in release)
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None else "")
        + (f"+{local}" if local else "")
    ),
    st.integers(min_value=0, max_value=3),
    st.lists(_numbers, min_size=1, max_size=5),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), _numbers),
    st.none() | _numbers,
    st.none() | _numbers,
    st.none()
    | st.lists(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=3).map(
        ".".join
    ),
)


@given(_pep440, _pep440)
def test_byte_order_is_pep440_order(left: str, right: str) -> None:
    a, b = Version(left), Version(right)
    key_a, key_b = versions.sort_key(left), versions.sort_key(right)
    assert (a < b) == (key_a < key_b)
    assert (a == b) == (key_a == key_b)
