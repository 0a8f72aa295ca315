"""The stage lines ``run_nano`` reports (what ``assay train nano`` prints) show losses rounded.

The corpus, tokenizer, pretraining and publishing stages are replaced by stand-ins: the real recipe
trains for about an hour, and only the messages about their results are under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.train import nano
from assay.train.nano_corpus import CorpusReport
from assay.train.pretrain import PretrainResult


def _result(val_loss: float | None) -> PretrainResult:
    return PretrainResult(model_dir=Path("m"), steps=3, tokens_seen=96, parameters=10, train_loss=9.5,
                          val_loss=val_loss, elapsed_s=1.0, tokens_per_s=96.0, device="cpu", precision="fp32",
                          precision_reason="auto: fp32 on a CPU", resumed_from_step=None, stopped_early=False)


@pytest.mark.parametrize(("losses", "lines"), [
    ((9.01025390625, 8.123456), ["pretrain: 3 steps, val loss 9.010", "pretrain phase 2: 3 steps, val loss 8.123"]),
    ((None, None), ["pretrain: 3 steps, val loss none", "pretrain phase 2: 3 steps, val loss none"]),
])
def test_val_loss_is_shown_to_three_decimals(losses: tuple[float | None, float | None], lines: list[str],
                                             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    results = iter(_result(v) for v in losses)
    monkeypatch.setattr(nano, "build_corpus", lambda config: CorpusReport(tmp_path / "c.jsonl", 1, 10, 13))
    monkeypatch.setattr(nano, "build_tokenizer", lambda config: tmp_path)
    monkeypatch.setattr(nano, "pretrain", lambda config: next(results))
    monkeypatch.setattr(nano, "publish", lambda config, corpus, result: (tmp_path, {}))
    said: list[str] = []
    nano.run_nano(nano.NanoConfig(out_dir=str(tmp_path), continue_steps=3), on_stage=said.append)
    assert [s for s in said if "val loss" in s] == lines


def test_an_interrupted_phase_stops_the_recipe_and_the_command_exits_130(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    """Ctrl-C in phase 1 (pretrain returns with stop_reason SIGINT, checkpointed) must not go on to phase 2 and
    publish a half-trained model; ``assay train nano`` says where it stopped and exits 130. Stand-ins as above;
    the real signal handling is tested in tests/integration/train/test_pretrain_interrupt.py."""
    from dataclasses import replace

    from typer.testing import CliRunner

    from assay.cli.train import train_app

    calls: list[str] = []

    def fake_pretrain(config):
        calls.append(config.out_dir)
        return replace(_result(None), steps=7, stopped_early=True, stop_reason="SIGINT")

    monkeypatch.setattr(nano, "build_corpus", lambda config: CorpusReport(tmp_path / "c.jsonl", 1, 10, 13))
    monkeypatch.setattr(nano, "build_tokenizer", lambda config: tmp_path)
    monkeypatch.setattr(nano, "pretrain", fake_pretrain)
    monkeypatch.setattr(nano, "publish", lambda *a, **k: pytest.fail("an interrupted recipe must not publish"))
    res = CliRunner().invoke(train_app, ["nano", "--out", str(tmp_path), "--steps", "40", "--no-evaluate"])
    assert res.exit_code == 130, res.output
    assert calls == [str(tmp_path / "pretrain")]
    assert (f"interrupted (SIGINT) at step 7 of 40: checkpoint saved in {tmp_path / 'pretrain' / 'checkpoint'}"
            in res.output)
    assert "rerun the same command to resume" in res.output and "Traceback" not in res.output
