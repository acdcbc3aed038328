"""Project-URL labels by kind, normalized as PEP 753 says."""

from __future__ import annotations

import pytest

from wheelyard.services.projects.project_urls import link_kind, normalize_label


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Homepage", "homepage"),
        ("Home-Page", "homepage"),
        ("Source", "source"),
        ("Source Code", "source"),
        ("Repository", "source"),
        ("Documentation", "documentation"),
        ("docs", "documentation"),
        ("Changelog", "changelog"),
        ("Changes", "changelog"),
        ("Release Notes", "changelog"),
        ("Issues", "issues"),
        ("Bug Tracker", "issues"),
        ("Funding", "funding"),
        ("Donate", "funding"),
        ("Sponsor", "funding"),
        ("Chat", "chat"),
        ("Download", "download"),
        ("Whatever else", "link"),
    ],
)
def test_well_known_labels_have_their_kind(label: str, kind: str) -> None:
    assert link_kind(label) == kind


def test_normalization_drops_punctuation_and_space_and_case() -> None:
    assert normalize_label("Release-Notes!") == "releasenotes"
    assert normalize_label(" Bug_Tracker ") == "bugtracker"
