"""Project URLs by label ("Homepage", "Documentation"), matched as PEP 753 normalizes labels."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# PEP 753: labels compare with punctuation and white space removed, case ignored.
_LABEL_PUNCTUATION = re.compile(r"[\s!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]")


def labelled_url(urls: Mapping[str, str], labels: Sequence[str]) -> str | None:
    """The URL under the first label in ``urls`` that normalizes to one of ``labels``."""
    for label, url in urls.items():
        if _LABEL_PUNCTUATION.sub("", label).lower() in labels:
            return url
    return None


# The well-known labels of PEP 753 (and the spellings PyPI also recognizes), normalized, by
# the kind of link they name: the project page gives each kind its icon.
_KINDS: dict[str, tuple[str, ...]] = {
    "homepage": ("homepage", "home"),
    "source": ("source", "repository", "sourcecode", "github", "gitlab", "code"),
    "download": ("download",),
    "changelog": ("changelog", "changes", "releasenotes", "news", "whatsnew", "history"),
    "documentation": ("documentation", "docs"),
    "issues": ("issues", "bugs", "issue", "tracker", "issuetracker", "bugtracker"),
    "funding": ("funding", "sponsor", "donate", "donation"),
    "chat": ("chat", "discord", "gitter", "forum", "discussions", "community"),
}
_KIND_OF_LABEL = {label: kind for kind, labels in _KINDS.items() for label in labels}


def normalize_label(label: str) -> str:
    """PEP 753's normalization: punctuation and white space removed, lower case."""
    return _LABEL_PUNCTUATION.sub("", label).lower()


def link_kind(label: str) -> str:
    """The kind of a link by its label ("Release Notes" -> "changelog"); "link" if unknown."""
    return _KIND_OF_LABEL.get(normalize_label(label), "link")
