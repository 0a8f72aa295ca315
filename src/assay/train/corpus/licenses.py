"""License detection for corpus files.

Three sources, most specific first:

1. an ``SPDX-License-Identifier:`` line in the file's first lines;
2. a Debian machine-readable copyright file (``debian/copyright``, DEP-5): the last ``Files:``
   paragraph whose patterns match the file's path decides;
3. the repository's license file (``LICENSE``, ``COPYING``, ``LICENCE``..., optionally with an
   extension), recognised by characteristic phrases of each license text.

Results are SPDX expressions (``MIT``, ``Apache-2.0``, ``MIT OR Apache-2.0``) or ``unknown``.
An expression is permissive when every ``AND`` term has at least one permissive ``OR`` alternative.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

UNKNOWN = "unknown"

PERMISSIVE: frozenset[str] = frozenset({
    "MIT", "MIT-0", "X11", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear", "BSD-4-Clause", "0BSD",
    "Apache-2.0", "ISC", "PSF-2.0", "Python-2.0", "Unlicense", "Zlib", "CC0-1.0", "BSL-1.0", "WTFPL",
    "Expat", "NCSA", "PostgreSQL", "curl", "Artistic-2.0", "UPL-1.0", "BlueOak-1.0.0",
})

_ALIASES = {
    "expat": "MIT", "mit/x11": "MIT", "bsd-2": "BSD-2-Clause", "bsd-3": "BSD-3-Clause", "bsd-4": "BSD-4-Clause",
    "apache-2": "Apache-2.0", "apache-2.0+": "Apache-2.0", "apache2": "Apache-2.0", "psf": "PSF-2.0",
    "python": "Python-2.0", "zlib": "Zlib", "isc": "ISC", "unlicense": "Unlicense", "cc0": "CC0-1.0",
    "public-domain": "Unlicense", "gpl-2": "GPL-2.0", "gpl-2+": "GPL-2.0-or-later", "gpl-3": "GPL-3.0",
    "gpl-3+": "GPL-3.0-or-later", "lgpl-2.1": "LGPL-2.1", "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3": "LGPL-3.0",
    "lgpl-3+": "LGPL-3.0-or-later", "mpl-2.0": "MPL-2.0", "agpl-3": "AGPL-3.0", "agpl-3+": "AGPL-3.0-or-later",
}
_CANONICAL = {s.lower(): s for s in PERMISSIVE}

LICENSE_FILE_RE = re.compile(r"^(LICEN[CS]E|COPYING|UNLICENSE)([-._][\w.-]*)?$", re.IGNORECASE)
_SPDX_RE = re.compile(r"SPDX-License-Identifier:[ \t]*(\(?[A-Za-z0-9][\w.+\-() \t]*)")

_TEXT_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Apache-2.0", ("apache license", "version 2.0")),
    ("AGPL-3.0", ("gnu affero general public license",)),
    ("LGPL-3.0", ("gnu lesser general public license", "version 3")),
    ("LGPL-2.1", ("gnu lesser general public license", "version 2.1")),
    ("GPL-3.0", ("gnu general public license", "version 3")),
    ("GPL-2.0", ("gnu general public license", "version 2")),
    ("MPL-2.0", ("mozilla public license", "2.0")),
    ("PSF-2.0", ("python software foundation license",)),
    ("Unlicense", ("this is free and unencumbered software released into the public domain",)),
    ("BSL-1.0", ("boost software license",)),
    ("Zlib", ("this software is provided 'as-is'", "altered source versions must be plainly marked")),
    ("ISC", ("permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("ISC", ("permission to use, copy, modify, and distribute this software for any purpose",
             "the software is provided \"as is\" and the author disclaims")),
    ("MIT", ("permission is hereby granted, free of charge",)),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms", "neither the name")),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms", "may not be used to endorse")),
    ("BSD-2-Clause", ("redistribution and use in source and binary forms",)),
    ("CC0-1.0", ("cc0 1.0 universal",)),
)


def normalize_expression(expr: str) -> str:
    """Canonical spelling of an SPDX / Debian license expression (``mit or apache-2`` → ``MIT OR Apache-2.0``)."""
    out: list[str] = []
    for part in re.split(r"(\s+(?:and|or|with)\s+|[()])", expr.strip(), flags=re.IGNORECASE):
        word = part.strip()
        if not word:
            continue
        if word.lower() in ("and", "or", "with"):
            out.append(word.upper())
        elif word in "()":
            out.append(word)
        else:
            low = word.lower()
            out.append(_ALIASES.get(low) or _CANONICAL.get(low) or word)
    return " ".join(out).replace("( ", "(").replace(" )", ")") or UNKNOWN


def is_permissive(expr: str) -> bool:
    """Every ``AND`` term has a permissive ``OR`` alternative; ``WITH`` exceptions keep the base license's class."""
    if not expr or expr == UNKNOWN:
        return False
    flat = re.sub(r"[()]", " ", expr)
    for term in re.split(r"\s+AND\s+", flat):
        options = [re.split(r"\s+WITH\s+", o.strip())[0].strip() for o in re.split(r"\s+OR\s+", term)]
        if not any(o in PERMISSIVE for o in options):
            return False
    return True


def spdx_header(text: str, max_lines: int = 30) -> str | None:
    """The expression of an ``SPDX-License-Identifier`` line among the first ``max_lines`` lines."""
    head = "\n".join(text.splitlines()[:max_lines])
    match = _SPDX_RE.search(head)
    return normalize_expression(re.sub(r"[\s\-*/#>]+$", "", match.group(1))) if match else None


def license_from_text(text: str) -> str:
    """The license a LICENSE/COPYING file's text states, by its characteristic phrases; ``unknown`` if none."""
    low = re.sub(r"\s+", " ", text.lower())
    if (spdx := spdx_header(text)) is not None:
        return spdx
    for spdx_id, phrases in _TEXT_MARKERS:
        if all(p in low for p in phrases):
            return spdx_id
    return UNKNOWN


@dataclass(frozen=True)
class DebianParagraph:
    patterns: tuple[str, ...]
    license: str


def parse_debian_copyright(text: str) -> list[DebianParagraph]:
    """The ``Files:`` paragraphs of a DEP-5 copyright file, in file order, each with its license's short name."""
    paragraphs: list[DebianParagraph] = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key is not None:
                fields[key] += "\n" + line.strip()
            elif ":" in line and not line.startswith("#"):
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "files" in fields and "license" in fields:
            first_line = fields["license"].split("\n", 1)[0].strip()
            if first_line:
                paragraphs.append(DebianParagraph(tuple(fields["files"].split()), normalize_expression(first_line)))
    return paragraphs


def debian_license_for(paragraphs: list[DebianParagraph], rel_path: str) -> str | None:
    """The license of ``rel_path`` (relative to the package root): the last matching paragraph wins (DEP-5)."""
    found = None
    for para in paragraphs:
        if any(fnmatch.fnmatchcase(rel_path, pattern) for pattern in para.patterns):
            found = para.license
    return found


class RepositoryLicenses:
    """License lookup for the files of one repository / source package rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repository_license = UNKNOWN
        for entry in sorted(root.iterdir()) if root.is_dir() else []:
            if entry.is_file() and LICENSE_FILE_RE.match(entry.name):
                found = license_from_text(entry.read_text(encoding="utf-8", errors="replace"))
                if found != UNKNOWN:
                    self.repository_license = found
                    break
        deb = root / "debian" / "copyright"
        self.debian = parse_debian_copyright(deb.read_text(encoding="utf-8", errors="replace")) if deb.is_file() else []

    def license_for(self, rel_path: str, text: str) -> str:
        """SPDX header, then Debian copyright, then the repository license file; ``unknown`` when none says."""
        if (spdx := spdx_header(text)) is not None:
            return spdx
        if self.debian and (deb := debian_license_for(self.debian, rel_path)) is not None:
            return deb
        return self.repository_license
