"""A project's license as one clean name ("MIT", "BSD-3-Clause", "Apache-2.0").

Metadata says what a license is in three ways, from most to least precise: a PEP 639
License-Expression (SPDX), the free-text License field, and "License ::" trove classifiers.
The free text is whatever the author typed ("Apache 2.0", "MIT license", sometimes the whole
license), so it counts only when it is one of the spellings we recognise; an unrecognised short
text is kept as a last resort, after the classifiers, so that "Dual License" does not hide a
classifier that says "MIT".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from sqlalchemy.orm import Session

from wheelyard.data.license import License
from wheelyard.services.projects.named_rows import get_or_add

MAX_LICENSE_NAME = 200
# Longer free text is the license itself, or prose about it: never a name.
_MAX_FREE_TEXT = 100
_SEPARATORS = re.compile(r"[\s,._/()-]+")
_OR = re.compile(r"\s+or\s+|\s*/\s*", re.IGNORECASE)

# Free-text spellings seen in real metadata, keyed by their words lower-cased and joined by
# single spaces (see _key), so "MIT License", "MIT license" and "mit-license" meet.
_SPELLINGS: dict[str, str] = {
    "mit": "MIT",
    "mit license": "MIT",
    "mit licence": "MIT",
    "expat": "MIT",
    "expat license": "MIT",
    "the mit license": "MIT",
    "bsd": "BSD-3-Clause",
    "bsd license": "BSD-3-Clause",
    "bsd like": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "modified bsd license": "BSD-3-Clause",
    "3 clause bsd": "BSD-3-Clause",
    "3 clause bsd license": "BSD-3-Clause",
    "bsd 3 clause": "BSD-3-Clause",
    "bsd 3 clause license": "BSD-3-Clause",
    "2 clause bsd": "BSD-2-Clause",
    "2 clause bsd license": "BSD-2-Clause",
    "bsd 2 clause": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause",
    "freebsd": "BSD-2-Clause",
    "apache": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache 2 0": "Apache-2.0",
    "apache license": "Apache-2.0",
    "apache license 2": "Apache-2.0",
    "apache license 2 0": "Apache-2.0",
    "apache license version 2": "Apache-2.0",
    "apache license version 2 0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "apache software license 2 0": "Apache-2.0",
    "asl": "Apache-2.0",
    "asl 2": "Apache-2.0",
    "asl 2 0": "Apache-2.0",
    "isc": "ISC",
    "isc license": "ISC",
    "iscl": "ISC",
    "psf": "PSF-2.0",
    "psf license": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "python": "PSF-2.0",
    "mpl 2": "MPL-2.0",
    "mpl 2 0": "MPL-2.0",
    "mozilla public license 2 0": "MPL-2.0",
    "lgpl": "LGPL",
    "gnu lgpl": "LGPL",
    "lgplv3": "LGPL-3.0",
    "lgplv3+": "LGPL-3.0-or-later",
    "lgplv2": "LGPL-2.1",
    "gpl": "GPL",
    "gnu gpl": "GPL",
    "gplv2": "GPL-2.0",
    "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0",
    "gplv3+": "GPL-3.0-or-later",
    "zpl": "ZPL-2.1",
    "zpl 2 1": "ZPL-2.1",
    "public domain": "Public Domain",
    "unlicense": "Unlicense",
    "the unlicense": "Unlicense",
}

# Some authors give the license as a link to its text.
_URLS: dict[str, str] = {
    "apache.org/licenses/license-2.0": "Apache-2.0",
    "opensource.org/licenses/mit": "MIT",
    "opensource.org/licenses/mit-license": "MIT",
    "opensource.org/licenses/bsd-3-clause": "BSD-3-Clause",
    "opensource.org/licenses/bsd-2-clause": "BSD-2-Clause",
    "mozilla.org/mpl/2.0": "MPL-2.0",
}
_URL = re.compile(r"^https?://(?:www\.)?(?P<rest>\S+?)(?:\.html?|\.txt|\.php)?/?$", re.IGNORECASE)

# The last segment of "License :: ..." classifiers, for the ones that name a known license.
_CLASSIFIERS: dict[str, str] = {
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "BSD License": "BSD-3-Clause",
    "Apache Software License": "Apache-2.0",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU General Public License (GPL)": "GPL",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Affero General Public License v3": "AGPL-3.0",
    "Zope Public License": "ZPL-2.1",
    "Academic Free License (AFL)": "AFL",
    "The Unlicense (Unlicense)": "Unlicense",
    "Public Domain": "Public Domain",
    "Other/Proprietary License": "Proprietary",
}
# Classifiers that say only that the license is approved, not which one it is.
_UNSPECIFIC = {"OSI Approved", "DFSG approved", "Freely Distributable", "Freeware"}
# What authors write when there is nothing to say.
_EMPTY = {"", "unknown", "none", "n/a", "see license", "see license file", "license"}


def _key(text: str) -> str:
    return _SEPARATORS.sub(" ", text.strip().lower()).strip()


def _from_expression(expression: str | None) -> str | None:
    if not expression or not expression.strip():
        return None
    try:
        return str(canonicalize_license_expression(expression))
    except InvalidLicenseExpression:
        return None


def _from_text(text: str) -> str | None:
    """The clean name of a free-text license field, when every part of it is recognised."""
    if url := _URL.match(text.strip()):
        return _URLS.get(url["rest"].lower())
    if _key(text) in _SPELLINGS:
        return _SPELLINGS[_key(text)]
    # "BSD or Apache License, Version 2.0": a choice between known licenses.
    parts = [_SPELLINGS.get(_key(part)) for part in _OR.split(text)]
    if len(parts) > 1 and all(parts):
        return " OR ".join(dict.fromkeys(part for part in parts if part))
    return None


def _from_classifiers(classifiers: Iterable[str]) -> str | None:
    names: list[str] = []
    for classifier in classifiers:
        segments = [segment.strip() for segment in classifier.split("::")]
        if segments[0] != "License" or len(segments) < 2:
            continue
        last = segments[-1]
        if last in _UNSPECIFIC:
            continue
        names.append(_CLASSIFIERS.get(last, re.sub(r"\s*\([^)]*\)$", "", last)))
    if not names:
        return None
    # Several license classifiers mean the user may choose, as PyPI displays them.
    return " OR ".join(dict.fromkeys(names))


def license_name(
    *, expression: str | None, license_text: str | None, classifiers: Iterable[str]
) -> str | None:
    """The project's license as one clean name, or None when its metadata does not say."""
    text = (license_text or "").strip()
    meaningful_text = text if _key(text) not in _EMPTY else ""
    name = (
        _from_expression(expression)
        or (_from_text(meaningful_text) if meaningful_text else None)
        or _from_classifiers(classifiers)
    )
    short = len(meaningful_text) <= _MAX_FREE_TEXT and "\n" not in meaningful_text
    if name is None and meaningful_text and short:
        name = meaningful_text
    return name[:MAX_LICENSE_NAME] if name else None


def ensure_license(db: Session, name: str) -> License:
    """The license row called ``name``, created when it is new."""
    return get_or_add(db, License, name)
