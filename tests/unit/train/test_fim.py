"""FIM transforms: every split reassembles its document exactly, in every language with a grammar.

Run: ``python -m pytest tests/unit/train/test_fim.py -q`` (a few seconds).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.errors import ConfigError
from assay.languages import LANGUAGES
from assay.train.fim import (
    FimConfig,
    FimSplit,
    FimTokens,
    apply_fim,
    format_psm,
    format_spm,
    parse_example,
    random_span,
    syntax_span,
)

TOKENS = FimTokens.from_spec("assay-nano")

SAMPLES: dict[str, str] = {
    "python": "import os\n\ndef read(path, mode='r'):\n    with open(path, mode) as fh:\n        return fh.read()\n\nprint(read('x'))\n",
    "javascript": "function add(a, b) {\n  const s = a + b;\n  console.log(s, 'é');\n  return s;\n}\nadd(1, 2);\n",
    "typescript": "function greet(name: string): string {\n  const msg = `hi ${name}`;\n  return msg;\n}\ngreet('x');\n",
    "tsx": "const App = () => {\n  const x = compute(1, 2);\n  return <div>{x}</div>;\n};\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tx := add(1, 2)\n\tfmt.Println(x)\n}\n",
    "java": "class A {\n  int f(int x) {\n    int y = g(x, 2);\n    return y + 1;\n  }\n}\n",
    "rust": "fn main() {\n    let v = vec![1, 2];\n    println!(\"{}\", add(v[0], v[1]));\n}\n",
    "c": "#include <stdio.h>\nint main(void) {\n  int x = add(1, 2);\n  printf(\"%d\\n\", x);\n  return 0;\n}\n",
    "cpp": "#include <vector>\nint main() {\n  std::vector<int> v{1, 2};\n  for (int x : v) { f(x, 1); }\n  return 0;\n}\n",
    "csharp": "class A {\n  void F() {\n    var x = G(1, 2);\n    System.Console.WriteLine(x);\n  }\n}\n",
    "ruby": "def greet(name)\n  msg = format('hi %s', name)\n  puts msg\nend\ngreet('x')\n",
    "php": "<?php\nfunction add($a, $b) {\n  $s = $a + $b;\n  echo max($s, 1);\n  return $s;\n}\n",
    "kotlin": "fun main() {\n    val x = add(1, 2)\n    println(x)\n}\n",
    "scala": "object A {\n  def f(x: Int): Int = {\n    val y = g(x, 2)\n    y + 1\n  }\n}\n",
    "swift": "func add(a: Int, b: Int) -> Int {\n    let s = a + b\n    print(s)\n    return s\n}\n",
    "lua": "local function add(a, b)\n  local s = a + b\n  print(s)\n  return s\nend\n",
    "shell": "#!/bin/sh\nfor f in *.txt; do\n  echo \"$f\"\n  wc -l \"$f\"\ndone\n",
    "sql": "SELECT id, name FROM users WHERE age > 21 ORDER BY name;\nINSERT INTO t (a, b) VALUES (1, 2);\n",
    "html": "<html>\n  <body>\n    <p class=\"x\">Hello</p>\n  </body>\n</html>\n",
    "css": "body {\n  color: red;\n  margin: 0 auto;\n}\n.x { padding: 1px; }\n",
    "scss": "$c: red;\n.a {\n  color: $c;\n  .b { margin: 0; }\n}\n",
    "yaml": "server:\n  port: 5052\n  host: localhost\nmodels:\n  - name: nano\n",
    "json": "{\n  \"a\": [1, 2, 3],\n  \"b\": {\"c\": null}\n}\n",
    "toml": "[project]\nname = \"assay\"\nversion = \"0.1.0\"\n\n[tool.x]\ny = [1, 2]\n",
    "markdown": "# Title\n\nSome *text* here.\n\n- item one\n- item two\n",
    "haskell": "main :: IO ()\nmain = do\n  let x = add 1 2\n  print x\n",
    "elixir": "defmodule A do\n  def add(a, b) do\n    IO.puts(a + b)\n  end\nend\n",
    "erlang": "-module(a).\n-export([add/2]).\nadd(A, B) ->\n    io:format(\"~p~n\", [A + B]).\n",
    "ocaml": "let add a b =\n  let s = a + b in\n  print_int s;\n  s\n",
    "r": "add <- function(a, b) {\n  s <- a + b\n  print(s)\n  s\n}\n",
    "julia": "function add(a, b)\n    s = a + b\n    println(s)\n    return s\nend\n",
    "dart": "int add(int a, int b) {\n  final s = a + b;\n  print(s);\n  return s;\n}\n",
    "perl": "sub add {\n  my ($a, $b) = @_;\n  print($a + $b);\n  return $a + $b;\n}\n",
    "terraform": "resource \"aws_instance\" \"web\" {\n  ami = \"ami-123\"\n  count = max(1, 2)\n}\n",
    "dockerfile": "FROM python:3.11\nRUN pip install assay\nCOPY . /app\nCMD [\"assay\", \"serve\"]\n",
    "make": "all: build\n\nbuild:\n\t$(CC) -o app main.c\n\nclean:\n\trm -f app\n",
    "vue": "<template>\n  <p>{{ msg }}</p>\n</template>\n<script>\nexport default { data() { return { msg: 'hi' } } }\n</script>\n",
    "zig": "const std = @import(\"std\");\npub fn main() void {\n    const x = add(1, 2);\n    std.debug.print(\"{}\\n\", .{x});\n}\n",
}

PROGRAMMING = ["python", "javascript", "typescript", "go", "java", "rust", "c", "cpp", "csharp", "ruby", "php",
               "kotlin", "swift", "lua", "dart", "scala", "zig"]
"""Languages with statements/blocks/calls in their sample: syntax spans must be found there."""

GRAMMAR_LANGUAGES = [lang for lang in LANGUAGES if lang.tree_sitter]


def test_every_grammar_language_has_a_sample() -> None:
    assert {lang.id for lang in GRAMMAR_LANGUAGES} <= set(SAMPLES)


@pytest.mark.parametrize("lang", GRAMMAR_LANGUAGES, ids=lambda lang: lang.id)
def test_syntax_spans_reassemble_exactly(lang) -> None:
    text = SAMPLES[lang.id]
    found = 0
    for seed in range(40):
        split = syntax_span(text, lang.tree_sitter, random.Random(seed))
        if split is not None:
            found += 1
            assert split.prefix + split.middle + split.suffix == text
            assert split.kind == "syntax" and split.middle
    if lang.id in PROGRAMMING:
        assert found > 0, f"no statement/block/argument span found in the {lang.id} sample"


@pytest.mark.parametrize("lang", GRAMMAR_LANGUAGES, ids=lambda lang: lang.id)
def test_apply_fim_round_trips_through_the_formatted_string(lang) -> None:
    text = SAMPLES[lang.id]
    config = FimConfig(rate=1.0, spm_share=0.5, syntax_share=1.0)
    modes = set()
    for seed in range(30):
        example = apply_fim(text, random.Random(seed), TOKENS, config, lang.id)
        modes.add(example.mode)
        assert example.split is not None and example.split.text == text
        parsed = parse_example(example.text, TOKENS)
        assert parsed is not None and parsed.text == text
    assert modes == {"psm", "spm"}


def test_python_syntax_spans_cover_statements_blocks_and_call_arguments() -> None:
    text = SAMPLES["python"]
    splits = [syntax_span(text, "python", random.Random(s)) for s in range(300)]
    middles = {split.middle for split in splits if split is not None}
    assert "import os" in middles
    assert "path, mode" in middles
    assert any(m.startswith("with open(path, mode) as fh:") for m in middles)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), seed=st.integers(0, 2**32))
def test_random_spans_reassemble_any_text(text: str, seed: int) -> None:
    split = random_span(text, random.Random(seed))
    assert split.prefix + split.middle + split.suffix == text
    for formatted in (format_psm(split, TOKENS), format_spm(split, TOKENS)):
        parsed = parse_example(formatted, TOKENS)
        assert parsed is not None and parsed.text == text


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="<>"), min_size=1, max_size=300),
       seed=st.integers(0, 2**32))
def test_apply_fim_on_arbitrary_python_like_text(text: str, seed: int) -> None:
    example = apply_fim(text, random.Random(seed), TOKENS, FimConfig(rate=1.0, syntax_share=1.0), "python")
    assert example.split is not None and example.split.text == text
    assert example.text.endswith(TOKENS.eos) and example.text.startswith(TOKENS.prefix)


def test_spm_layout_puts_suffix_first_and_middle_last() -> None:
    split = FimSplit("a = ", "1", "\nb = 2\n")
    assert format_spm(split, TOKENS) == "<fim_prefix><fim_suffix>\nb = 2\n<fim_middle>a = 1<|endoftext|>"
    assert format_psm(split, TOKENS) == "<fim_prefix>a = <fim_suffix>\nb = 2\n<fim_middle>1<|endoftext|>"


def test_rates_follow_the_config() -> None:
    rng = random.Random(7)
    config = FimConfig(rate=0.5, spm_share=0.25)
    modes = [apply_fim("x = 1\ny = 2\n", rng, TOKENS, config, "python").mode for _ in range(4000)]
    fim = [m for m in modes if m != "plain"]
    assert 0.46 < len(fim) / len(modes) < 0.54
    assert 0.21 < fim.count("spm") / len(fim) < 0.29
    assert all(m == "plain" for m in (apply_fim("x", rng, TOKENS, FimConfig(rate=0.0)).mode for _ in range(50)))


def test_plain_examples_end_in_eos_and_seeds_reproduce() -> None:
    config = FimConfig()
    a = [apply_fim(SAMPLES["go"], random.Random(3), TOKENS, config, "go").text for _ in range(5)]
    b = [apply_fim(SAMPLES["go"], random.Random(3), TOKENS, config, "go").text for _ in range(5)]
    assert a == b
    assert apply_fim("x", random.Random(0), TOKENS, FimConfig(rate=0.0)).text == "x<|endoftext|>"


def test_tokens_come_from_the_spec_registry() -> None:
    assert TOKENS == FimTokens("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<|endoftext|>")
    with pytest.raises(ConfigError, match="unknown model spec 'nope'"):
        FimTokens.from_spec("nope")


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"fim\.rate must be between 0 and 1, got 1\.5"):
        FimConfig(rate=1.5)
