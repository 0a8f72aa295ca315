"""Mistakes a new user makes on the command line get one clear line naming what was wrong.

Run in-process through typer's ``CliRunner`` (stderr kept apart) on real files in ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.common import fail
from assay.cli.main import app
from assay.config import load_settings
from assay.errors import ConfigError


def invoke(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return CliRunner().invoke(app, list(args), env=env)


def test_fail_prints_one_unwrapped_line_with_brackets_and_colons_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    message = "cannot listen on 127.0.0.1:-1: [bold]no[/bold]; tasks: " + ", ".join(f"task-{i}" for i in range(40))
    assert fail(message).exit_code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.strip() == f"error: {message}"


def test_yaml_syntax_error_is_one_line_with_its_position(tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text("models:\n  - name: x\n   provider: openai\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "\n" not in caught.value.message
    assert "not valid YAML at line 3, column 4: expected <block end>" in caught.value.message


@pytest.fixture()
def no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSAY_CONFIG", raising=False)


@pytest.mark.usefixtures("no_config_file")
def test_a_bad_environment_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_SERVER__PORT", "abc")
    with pytest.raises(ConfigError, match=r"^ASSAY_SERVER__PORT \(environment\): server\.port: "):
        load_settings(None)


@pytest.mark.usefixtures("no_config_file")
def test_a_whole_settings_error_reads_as_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_FEATURES__CODE_COMPLETIONS", "qwen-coder")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.message.startswith("features.code_completions names 'qwen-coder', which is not among the models")


@pytest.mark.parametrize(("flag", "value"), [("--limit", "0"), ("--n", "0"), ("--workers", "0"), ("--max-tokens", "0"),
                                           ("--temperature", "-1"), ("--top-p", "1.5")])
def test_eval_settings_out_of_range_are_refused_before_a_run_starts(flag: str, value: str, tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    done = invoke("eval", "humaneval", "--samples", str(samples), flag, value, "--db", str(tmp_path / "runs.db"))
    assert done.exit_code == 2
    assert f"Invalid value for '{flag}'" in done.output
    assert not (tmp_path / "runs.db").exists()


def test_models_list_shows_the_upstream_model_of_a_hosted_api(tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text("models:\n  - name: claude\n    provider: anthropic\n    model: claude-3-5-haiku-latest\n")
    done = invoke("models", "list", "-c", str(config), "--json")
    assert done.exit_code == 0, done.output
    assert '"source": "claude-3-5-haiku-latest"' in done.stdout


def test_a_missing_tokenizer_directory_is_named() -> None:
    from assay.providers.hf_tokenizer import load_tokenizer

    with pytest.raises(ConfigError) as caught:
        load_tokenizer("/models/not-here", "qwen")
    assert caught.value.message == "model 'qwen': tokenizer directory '/models/not-here' does not exist"


@pytest.mark.parametrize(("args", "message"), [
    (["export", "{missing}", "--format", "gguf", "--out", "{tmp}/m.gguf"], "error: model directory {missing} does not exist"),
    (["train", "lora", "{missing}", "--data", "{tmp}", "--out", "{tmp}/lora"],
     "error: base model directory {missing} does not exist"),
])
def test_a_missing_model_directory_is_named_not_read_as_a_hub_id(args: list[str], message: str, tmp_path: Path) -> None:
    names = {"missing": str(tmp_path / "no-model"), "tmp": str(tmp_path)}
    done = invoke(*(a.format(**names) for a in args))
    assert done.exit_code == 2
    assert done.output.strip() == message.format(**names)


def test_eval_list_json_is_the_task_registry() -> None:
    done = invoke("eval", "--list", "--json")
    assert done.exit_code == 0
    tasks = json.loads(done.stdout)
    assert {"humaneval", "humaneval-infilling", "mbpp", "repo-fim"} <= set(tasks)
    assert tasks["humaneval"].startswith("HumanEval: 164 Python functions")


def test_samples_of_another_benchmark_leave_no_empty_run_behind(tmp_path: Path) -> None:
    from assay.eval.store import RunStore

    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"task_id": "test/0", "completion": "    return 1\\n"}\n')
    db = str(tmp_path / "runs.db")
    done = invoke("eval", "humaneval", "--samples", str(samples), "--db", db)
    assert done.exit_code == 2
    assert done.output.strip().splitlines()[-1] == "error: samples name task ids that humaneval does not have: test/0"
    store = RunStore(db)
    try:
        assert store.runs() == []
    finally:
        store.close()
