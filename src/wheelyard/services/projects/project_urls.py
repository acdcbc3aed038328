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
