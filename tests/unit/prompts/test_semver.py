"""Poetry-style version constraints translated for ``packaging`` (caret, tilde, comparisons, wildcards)."""

from __future__ import annotations

import pytest
from packaging.version import Version

from assay.errors import RequestInvalid
from assay.prompts.semver import highest_match, parse_version, to_specifier

VERSIONS = [Version(v) for v in ("0.0.3", "0.2.3", "0.2.9", "0.3.0", "1.0.0", "1.2.0", "1.2.7", "1.3.0", "2.0.0",
                                 "2.1.0-rc1")]


@pytest.mark.parametrize(("constraint", "expected"), [
    ("^1.0.0", "1.3.0"),
    ("^1.2.3", "1.3.0"),
    ("^1.2", "1.3.0"),
    ("^1", "1.3.0"),
    ("^0.2.3", "0.2.9"),
    ("^0.0.3", "0.0.3"),
    ("^0", "0.3.0"),
    ("~1.2.3", "1.2.7"),
    ("~1.2", "1.2.7"),
    ("~1", "1.3.0"),
    ("~0.2", "0.2.9"),
    (">=1.0.0,<1.2.5", "1.2.0"),
    (">=1.0.0 <1.2.5", "1.2.0"),
    ("<1", "0.3.0"),
    ("1.2.0", "1.2.0"),
    ("=1.2.7", "1.2.7"),
    ("==1.2", "1.2.0"),
    ("1.2.*", "1.2.7"),
    ("*", "2.0.0"),
    ("!=2.0.0", "1.3.0"),
    ("^3.0.0", None),
    ("^2.1.0", None),
])
def test_highest_matching_version(constraint: str, expected: str | None) -> None:
    best = highest_match(VERSIONS, constraint)
    assert (str(best) if best else None) == expected


@pytest.mark.parametrize("bad", ["", "banana", "^x.1", "~", ">=1.0.0,<", "1.0.0.0.0.a", "^1.0.0 || ^2"])
def test_bad_constraints_name_the_field(bad: str) -> None:
    with pytest.raises(RequestInvalid) as info:
        highest_match(VERSIONS, bad)
    assert info.value.field == "prompt_version"


def test_caret_translation_matches_poetry() -> None:
    assert to_specifier("^1.2.3") == to_specifier(">=1.2.3,<2.0.0")
    assert to_specifier("^0.2.3") == to_specifier(">=0.2.3,<0.3.0")
    assert to_specifier("~1.2.3") == to_specifier(">=1.2.3,<1.3.0")


@pytest.mark.parametrize("bad", ["1.0", "1", "v1.0.0", "1.0.0-rc1"])
def test_file_versions_must_be_three_part_releases(bad: str) -> None:
    with pytest.raises(RequestInvalid):
        parse_version(bad)
