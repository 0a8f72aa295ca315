"""Path exclusion: glob semantics, per-project rules, what an excluded request becomes."""

from __future__ import annotations

import pytest

from assay.config import Settings
from assay.pipeline.exclusion import (
    ExclusionRules,
    apply_exclusion,
    excluded_result,
    normalize_path,
    rules_for,
)
from assay.pipeline.types import CompletionInput, ContextFile, RequestOverrides, Trace


@pytest.mark.parametrize(("pattern", "path", "excluded"), [
    ("**/.env", ".env", True),
    ("**/.env", "deploy/prod/.env", True),
    ("**/.env", "deploy/.env.example", False),
    ("secrets/**", "secrets/db/password.txt", True),
    ("secrets/**", "app/secrets/db.txt", False),
    ("**/secrets/**", "app/secrets/db.txt", True),
    ("*.pem", "certs/server.pem", True),
    ("*.pem", "server.pem", True),
    ("*.pem", "pem.py", False),
    ("config/*.yaml", "config/prod.yaml", True),
    ("config/*.yaml", "config/sub/prod.yaml", False),
    ("*", ".hidden", True),
])
def test_glob_semantics(pattern: str, path: str, excluded: bool) -> None:
    assert ExclusionRules((pattern,)).excludes(path) is excluded


@pytest.mark.parametrize(("raw", "normal"), [
    ("./a/b.py", "a/b.py"), ("/a/b.py", "a/b.py"), ("a\\b\\.env", "a/b/.env"), (" x.py ", "x.py")])
def test_paths_are_normalized(raw: str, normal: str) -> None:
    assert normalize_path(raw) == normal


def test_no_path_or_no_rule_excludes_nothing() -> None:
    assert not ExclusionRules(("**",)).excludes(None)
    assert not ExclusionRules(()).excludes(".env")


def test_project_rules_add_to_the_global_defaults() -> None:
    settings = Settings(exclusion={"patterns": ["**/.env"], "projects": {"group/app": ["secrets/**"]}})
    app = rules_for(settings, "group/app")
    other = rules_for(settings, "group/other")
    assert app.excludes("secrets/x") and app.excludes("a/.env")
    assert not other.excludes("secrets/x") and other.excludes("a/.env")
    assert rules_for(settings, "/group/app/").excludes("secrets/x")


def test_default_rules_cover_env_files_and_key_material() -> None:
    rules = rules_for(Settings(), None)
    assert all(rules.excludes(p) for p in (".env", "svc/.env.production", "tls/server.key", "home/.ssh/id_rsa"))
    assert not rules.excludes("src/main.py")


def test_excluded_context_files_are_dropped_before_selection() -> None:
    settings = Settings(exclusion={"patterns": ["*.pem", "secrets/**"]})
    inp = CompletionInput(prefix="x", file_name="main.py", context=(
        ContextFile("util.py", "def f(): pass"), ContextFile("certs/a.pem", "-----BEGIN"),
        ContextFile("secrets/db.txt", "pw")))
    out, outcome = apply_exclusion(inp, settings)
    assert [c.name for c in out.context] == ["util.py"]
    assert outcome.trace_entry() == {"current_file": False, "context_dropped": 2}


def test_an_excluded_current_file_is_reported_and_answered_with_empty_choices() -> None:
    settings = Settings(exclusion={"patterns": [], "projects": {"g/p": ["secrets/**"]}})
    inp = CompletionInput(prefix="x", file_name="secrets/token.txt", project="g/p", overrides=RequestOverrides(n=2))
    _, outcome = apply_exclusion(inp, settings)
    assert outcome.current_file
    result = excluded_result(inp, "m", Trace(id="t"))
    assert [(c.text, c.index) for c in result.choices] == [("", 0), ("", 1)]
    assert result.usage.total_tokens == 0
