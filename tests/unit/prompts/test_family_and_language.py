"""``--family`` names a known family or fails; an empty ``language`` leaves no double space in base prompts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assay.cli.prompts import prompts_app
from assay.prompts import default_registry

runner = CliRunner()

BASE_WITH_LANGUAGE = {
    "explain_code": "Explain the following {}code.",
    "fix_code": "Fix this {}code.",
    "refactor_code": "Refactor this {}code.",
    "write_tests": "Write tests for this {}code.",
    "explain_vulnerability": "Affected {}code:",
}
INPUTS = {"code": "def add(a, b): return a+b", "vulnerability_name": "CWE-89", "vulnerability_description": "SQLi"}


@pytest.mark.parametrize("args", [["render", "explain_code", "-i", "code=x"], ["show", "explain_code"]])
def test_unknown_family_is_an_error_listing_the_known_ones(args: list[str]) -> None:
    r = runner.invoke(prompts_app, [*args, "--family", "nosuchfam"])
    assert r.exit_code == 2
    assert "unknown prompt family 'nosuchfam'; known families: assay-nano, base, small, starcoder1" in r.output
    assert "Traceback" not in r.output


def test_known_families_and_aliases_still_resolve() -> None:
    for family, resolved in (("base", "base"), ("Small", "small"), ("assay-nano", "small")):
        r = runner.invoke(prompts_app, ["render", "explain_code", "-i", "code=x", "--family", family, "--json"])
        assert r.exit_code == 0, r.output
        assert f'"family": "{resolved}"' in r.output


@pytest.mark.parametrize("feature", sorted(BASE_WITH_LANGUAGE))
@pytest.mark.parametrize("language", ["", "python"])
def test_language_is_optional_without_a_double_space(feature: str, language: str) -> None:
    rendered = default_registry().resolve(feature, "base").render({**INPUTS, "language": language})
    user = next(m.content for m in rendered.messages if m.role == "user")
    expected = BASE_WITH_LANGUAGE[feature].format(f"{language} " if language else "")
    assert expected in user, user
