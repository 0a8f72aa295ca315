"""``train_tokenizer``: byte-level BPE with the spec's special tokens as single ids, loadable by transformers.

Run: ``python -m pytest tests/unit/train/test_tokenizer.py -q`` (about 2 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.train.tokenizer import load_tokenizer, spec_special_tokens, train_tokenizer

CORPUS = [
    "def hello_world():\n    print('hello world')\n    return 0\n",
    "import os\n\ndef read_file(path):\n    with open(path) as fh:\n        return fh.read()\n",
    "func main() {\n\tfmt.Println(\"hi\")\n}\n",
    "class Greeter:\n    def __init__(self, name):\n        self.name = name\n",
] * 30

SPECIALS = ["<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<repo_name>", "<file_sep>", "<fim_pad>"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("tok")
    return train_tokenizer(CORPUS, out, vocab_size=400)


def test_special_tokens_follow_the_spec_with_eos_first() -> None:
    assert spec_special_tokens("assay-nano") == SPECIALS


def test_special_tokens_are_single_ids(trained) -> None:
    tok = load_tokenizer(trained.path)
    assert trained.special_tokens == {t: i for i, t in enumerate(SPECIALS)}
    for token in SPECIALS:
        assert tok.encode(token, add_special_tokens=False) == [trained.special_tokens[token]]
    assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id == 0
    assert tok.pad_token == "<fim_pad>"


def test_fim_prompt_round_trips(trained) -> None:
    tok = load_tokenizer(trained.path)
    text = "<fim_prefix>def f(x):\n    <fim_suffix>\n\nprint('é ✓ 字')<fim_middle>return x * 2<|endoftext|>"
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text
    assert ids[0] == trained.special_tokens["<fim_prefix>"] and ids[-1] == trained.special_tokens["<|endoftext|>"]
    assert ids.count(trained.special_tokens["<fim_middle>"]) == 1


def test_saved_directory_loads_with_autotokenizer(trained) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(trained.path))
    assert len(tok) == trained.vocab_size <= 400
    assert tok.decode(tok.encode("\tfmt.Println(x)\n", add_special_tokens=False)) == "\tfmt.Println(x)\n"


def test_too_small_vocab_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="vocab_size must be at least 263"):
        train_tokenizer(CORPUS, tmp_path, vocab_size=100)


def test_missing_tokenizer_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_tokenizer(tmp_path / "nope")


@pytest.mark.parametrize("min_frequency", [-3, 0])
def test_min_frequency_below_one_is_refused(tmp_path: Path, min_frequency: int) -> None:
    with pytest.raises(ConfigError, match=f"min_frequency must be at least 1.*got {min_frequency}"):
        train_tokenizer(CORPUS, tmp_path, vocab_size=400, min_frequency=min_frequency)


def test_training_prints_nothing_to_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The ``tokenizers`` progress bars (off unless asked for) write a blank line per stage to fd 1."""
    train_tokenizer(CORPUS, tmp_path, vocab_size=300)
    assert capfd.readouterr().out == ""


@pytest.mark.parametrize("holds", ["notes.txt", "tokenizer_config.json"])
def test_folder_without_tokenizer_json_says_so_plainly(trained, tmp_path: Path, holds: str) -> None:
    """Not transformers' five lines ending in 'You need to have sentencepiece or tiktoken installed'."""
    (tmp_path / holds).write_text((trained.path / "tokenizer_config.json").read_text())
    with pytest.raises(ConfigError) as caught:
        load_tokenizer(tmp_path)
    assert caught.value.message == (f"{tmp_path} is not a tokenizer: expected a tokenizer.json or a folder holding "
                                    "one (train one with `assay train tokenizer`)")


def test_a_tokenizer_json_path_loads_its_folder(trained) -> None:
    tok = load_tokenizer(trained.path / "tokenizer.json")
    assert tok.eos_token_id == 0
