"""Single-line vs multi-line decisions from the cursor position."""

from __future__ import annotations

import pytest

from assay.languages import get_language
from assay.pipeline.postprocess import decide_mode

CASES = [
    ("mid-line with text after", "python", "print(", ")\n", "single"),
    ("end of a plain statement", "python", "x = compute(a, b)", "\n", "single"),
    ("end of a python block opener", "python", "def f(x):", "\n", "multi"),
    ("end of a brace opener", "javascript", "function f() {", "\n}\n", "multi"),
    ("end of an open paren", "go", "fmt.Println(", "\n", "multi"),
    ("ruby def without end", "ruby", "def hello_world", "\n", "multi"),
    ("ruby do block", "ruby", "items.each do |x|", "\n", "multi"),
    ("empty line in an empty block", "python", "def f(x):\n    ", "\n\ndef g():\n    pass\n", "multi"),
    ("empty line in an empty brace block", "c", "int f(void) {\n    ", "\n}\n", "multi"),
    ("empty line in a block with a body", "python", "def f(x):\n    ", "\n    return x\n", "single"),
    ("empty line after a statement", "python", "x = 1\n", "\ny = 2\n", "single"),
    ("comment line ending with a colon", "python", "# note:", "\n", "single"),
    ("end of file after opener, unknown language", None, "begin {", "", "multi"),
    ("under a signature and docstring (HumanEval)", "python",
     'def f(x):\n    """ Return x.\n    >>> f(1)\n    1\n    """\n', "", "multi"),
    ("under a one-line docstring", "python", "def f(x):\n    '''Return x.'''\n    ", "\n", "multi"),
    ("under a comment in an empty brace block", "javascript", "function f() {\n  // sum\n  ", "\n}\n", "multi"),
    ("under a module docstring", "python", '"""Module."""\n', "\nx = 1\n", "single"),
    ("under a string assignment", "python", 'x = """a\nb"""\n', "", "single"),
    ("under a docstring of a block with a body", "python", 'def f(x):\n    """Doc."""\n    ',
     "\n    return x\n", "single"),
]


@pytest.mark.parametrize(("why", "lang", "prefix", "suffix", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decide_mode(why: str, lang: str | None, prefix: str, suffix: str, expected: str) -> None:
    language = get_language(lang) if lang else None
    assert decide_mode(prefix, suffix, language) == expected


def test_humaneval_bodies_survive_postprocessing() -> None:
    """Every canonical HumanEval body, as a model's whole answer, comes out of post-processing intact
    (a single-line decision under the docstring once cut each to its first line)."""
    from assay.eval.tasks.base import DATA_DIR, read_jsonl
    from assay.pipeline.postprocess import context_for, postprocess

    python = get_language("python")
    cut = []
    for row in read_jsonl(DATA_DIR / "humaneval" / "HumanEval.jsonl.gz"):
        out = postprocess(row["canonical_solution"], context_for(row["prompt"], "", python)).text
        if out.rstrip() != row["canonical_solution"].rstrip():
            cut.append(row["task_id"])
    assert cut == []
