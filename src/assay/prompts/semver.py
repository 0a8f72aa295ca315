"""Semantic-version constraints as poetry writes them (``^1.0.0``, ``~1.2``, ``>=1.0,<2``, ``1.0.0``, ``*``).

``packaging.specifiers`` knows comparison operators but not caret or tilde, so those are translated
to ranges first: ``^1.2.3`` → ``>=1.2.3,<2.0.0``, ``^0.2.3`` → ``>=0.2.3,<0.3.0``, ``^0.0.3`` →
``>=0.0.3,<0.0.4``; ``~1.2.3`` → ``>=1.2.3,<1.3.0``, ``~1`` → ``>=1.0.0,<2.0.0``. Clauses are separated
by commas or spaces and must all hold. A bad constraint raises ``RequestInvalid`` naming
``prompt_version`` (422 on the wire).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from assay.errors import RequestInvalid

DEFAULT_CONSTRAINT = "^1.0.0"
FIELD = "prompt_version"

_PARTIAL = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_CLAUSE = re.compile(r"^(\^|~=|~|>=|<=|==|!=|>|<|=)?\s*(.+)$")


def parse_version(text: str) -> Version:
    """A release version ``X.Y.Z``; ``RequestInvalid`` for anything else."""
    if not _PARTIAL.match(text.strip()) or text.count(".") != 2:
        raise RequestInvalid(f"'{text}' is not a version of the form X.Y.Z", field=FIELD)
    try:
        return Version(text)
    except InvalidVersion:
        raise RequestInvalid(f"'{text}' is not a version of the form X.Y.Z", field=FIELD) from None


def _parts(text: str, constraint: str) -> tuple[int, int | None, int | None]:
    m = _PARTIAL.match(text)
    if not m:
        raise RequestInvalid(f"bad version constraint '{constraint}': '{text}' is not a version", field=FIELD)
    major, minor, patch = m.groups()
    return int(major), int(minor) if minor is not None else None, int(patch) if patch is not None else None


def _caret(text: str, constraint: str) -> str:
    major, minor, patch = _parts(text, constraint)
    low = f"{major}.{minor or 0}.{patch or 0}"
    if major > 0 or minor is None:
        high = f"{major + 1}.0.0"
    elif minor > 0 or patch is None:
        high = f"0.{minor + 1}.0"
    else:
        high = f"0.0.{patch + 1}"
    return f">={low},<{high}"


def _tilde(text: str, constraint: str) -> str:
    major, minor, patch = _parts(text, constraint)
    low = f"{major}.{minor or 0}.{patch or 0}"
    high = f"{major + 1}.0.0" if minor is None else f"{major}.{minor + 1}.0"
    return f">={low},<{high}"


def to_specifier(constraint: str) -> SpecifierSet:
    """Translate a poetry-style constraint into a ``SpecifierSet``."""
    text = constraint.strip()
    if not text:
        raise RequestInvalid("the version constraint is empty", field=FIELD)
    if text == "*":
        return SpecifierSet()
    clauses = [c for c in re.split(r"\s*,\s*|\s+(?=[\^~<>=!\d])", text) if c]
    pieces: list[str] = []
    for clause in clauses:
        m = _CLAUSE.match(clause)
        if not m:
            raise RequestInvalid(f"bad version constraint '{constraint}'", field=FIELD)
        op, ver = m.group(1) or "", m.group(2).strip()
        if op == "^":
            pieces.append(_caret(ver, constraint))
        elif op == "~":
            pieces.append(_tilde(ver, constraint))
        elif op == "~=":
            pieces.append(f"~={ver}")
        elif op in ("", "=", "=="):
            if ver.endswith(".*"):
                _parts(ver[:-2], constraint)
                pieces.append(f"=={ver}")
            else:
                pieces.append(f"=={'.'.join(str(p or 0) for p in _parts(ver, constraint))}")
        else:
            _parts(ver, constraint)
            pieces.append(f"{op}{ver}")
    try:
        return SpecifierSet(",".join(pieces))
    except InvalidSpecifier:
        raise RequestInvalid(f"bad version constraint '{constraint}'", field=FIELD) from None


def highest_match(versions: Iterable[Version], constraint: str) -> Version | None:
    """The highest of ``versions`` that satisfies ``constraint`` (pre-releases excluded), or None."""
    spec = to_specifier(constraint)
    fitting = [v for v in versions if spec.contains(v, prereleases=False)]
    return max(fitting) if fitting else None
