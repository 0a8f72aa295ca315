"""Pure pieces of the pretrain loop: learning-rate schedule, chunking, packing, splits, config checks.

Run: ``python -m pytest tests/unit/train/test_pretrain_parts.py -q`` (about 2 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.train.data import Document, chunk_text, read_documents, rows, split_documents
from assay.train.model import ModelConfig, build_model, count_parameters
from assay.train.pretrain import PretrainConfig, lr_factor


def test_lr_warms_up_linearly_then_decays_by_cosine_to_the_floor() -> None:
    f = [lr_factor(s, warmup=10, total=110, min_ratio=0.1) for s in range(111)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[60] == pytest.approx(0.55) and f[110] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))


def test_chunks_cut_at_line_ends_and_reassemble() -> None:
    text = "".join(f"line {i}\n" for i in range(100)) + "x" * 250
    chunks = chunk_text(text, 100)
    assert "".join(chunks) == text
    assert all(len(c) <= 100 for c in chunks)
    assert all(c.endswith("\n") for c in chunks[:-4])


def test_rows_are_shifted_windows() -> None:
    import torch

    x, y = rows(torch.arange(10), 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    with pytest.raises(ConfigError, match="not enough training tokens"):
        rows(torch.arange(3), 3)


def test_split_is_stable_and_honours_a_corpus_validation_shard(tmp_path: Path) -> None:
    docs = [Document(f"text {i}", "python", f"d{i}") for i in range(200)]
    train, val = split_documents(docs, 0.1)
    assert (train, val) == split_documents(list(reversed(docs))[::-1], 0.1)
    assert 5 <= len(val) <= 40 and len(train) + len(val) == 200

    (tmp_path / "train-00000.jsonl").write_text(json.dumps({"text": "a = 1\n", "repo": "r", "path": "a.py",
                                                            "language": "python", "license": "MIT"}) + "\n")
    (tmp_path / "validation-00000.jsonl").write_text(json.dumps({"text": "b = 2\n", "repo": "s", "path": "b.py",
                                                                 "language": "python", "license": "MIT"}) + "\n")
    (tmp_path / "manifest.json").write_text("{}")
    train, val = split_documents(read_documents([tmp_path]), 0.5)
    assert [d.id for d in train] == ["r/a.py"] and [d.id for d in val] == ["s/b.py"]


def test_source_files_get_their_language_and_bad_jsonl_is_named(tmp_path: Path) -> None:
    (tmp_path / "m.go").write_text("package main\n")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    docs = read_documents([tmp_path])
    assert [(d.language, Path(d.id).name) for d in docs] == [("go", "m.go")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"txt": 1}\n')
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: each line needs a string field 'text'"):
        read_documents([bad])


def test_config_checks_name_the_bad_field() -> None:
    with pytest.raises(ConfigError, match="pretrain.grad_accum must be at least 1, got 0"):
        PretrainConfig(data=("x",), tokenizer="t", out_dir="o", grad_accum=0)
    with pytest.raises(ConfigError, match="seq_len 2048 exceeds the model's context_length 1024"):
        PretrainConfig(data=("x",), tokenizer="t", out_dir="o", seq_len=2048)
    with pytest.raises(ConfigError, match="hidden_size 100 must be divisible by num_heads 8"):
        ModelConfig(hidden_size=100)


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("lr", -1.0, "greater than 0"), ("lr", 0.0, "greater than 0"), ("lr", float("nan"), "greater than 0"),
    ("min_lr_ratio", 1.5, r"in \[0, 1\]"), ("weight_decay", -0.1, "at least 0"), ("beta1", 1.0, r"in \[0, 1\)"),
    ("beta2", -0.5, r"in \[0, 1\)"), ("grad_clip", -1.0, "at least 0"), ("val_fraction", 1.0, r"in \[0, 1\)"),
    ("max_minutes", -1.0, "greater than 0"), ("max_minutes", 0.0, "greater than 0"), ("threads", 0, "at least 1"),
])
def test_out_of_range_settings_are_one_line_config_errors(field: str, value: float, allowed: str) -> None:
    """Before these checks a negative lr was a torch ValueError traceback, and a negative max_minutes or
    zero threads trained anyway."""
    with pytest.raises(ConfigError, match=f"pretrain.{field} must be {allowed}"):
        PretrainConfig(data=("x",), tokenizer="t", out_dir="o", **{field: value})


def test_edge_values_that_make_sense_are_accepted() -> None:
    PretrainConfig(data=("x",), tokenizer="t", out_dir="o", min_lr_ratio=0.0, weight_decay=0.0, beta1=0.0,
                   grad_clip=0.0, val_fraction=0.0, max_minutes=1e-9, threads=1)


def test_first_signal_is_recorded_and_hands_over_to_the_os_default_then_handlers_come_back() -> None:
    """The real handlers, raised for real in this (main) thread: the first SIGINT only sets the flag; after
    it SIGINT and SIGTERM are SIG_DFL, so a second Ctrl-C kills at once; on exit the previous ones return."""
    import signal

    from assay.train.pretrain import _StopSignals

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with _StopSignals() as stop:
        assert stop.received is None
        signal.raise_signal(signal.SIGINT)
        assert stop.received == "SIGINT"
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_no_handlers_are_installed_outside_the_main_thread() -> None:
    import signal
    import threading

    from assay.train.pretrain import _StopSignals

    before = signal.getsignal(signal.SIGINT)
    seen: list[object] = []

    def work() -> None:
        with _StopSignals():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [before]


def test_config_round_trips_through_a_dict() -> None:
    config = PretrainConfig(data=("a", "b"), tokenizer="t", out_dir="o", model=ModelConfig(num_layers=2))
    assert PretrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_nano_shape_fits_the_weight_budget() -> None:
    model = build_model(ModelConfig(), eos_token_id=0)
    params = count_parameters(model)
    assert params * 4 <= 25_000_000, "fp32 weights of the default shape must stay within 25 MB"
    assert model.config.tie_word_embeddings and model.config.num_key_value_heads == 4
