"""render_fim lays out each family's prompt exactly as the family documents it."""

from __future__ import annotations

import pytest

from assay.errors import ConfigError
from assay.specs.registry import get_spec
from assay.specs.render import render_fim, render_repo_context

PRE, SUF = "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("starcoder", f"<fim_prefix>{PRE}<fim_suffix>{SUF}<fim_middle>"),
        ("assay-nano", f"<fim_prefix>{PRE}<fim_suffix>{SUF}<fim_middle>"),
        ("qwen2.5-coder", f"<|fim_prefix|>{PRE}<|fim_suffix|>{SUF}<|fim_middle|>"),
        ("codegemma", f"<|fim_prefix|>{PRE}<|fim_suffix|>{SUF}<|fim_middle|>"),
        ("deepseek-coder", f"<\uff5cfim\u2581begin\uff5c>{PRE}<\uff5cfim\u2581hole\uff5c>{SUF}<\uff5cfim\u2581end\uff5c>"),
        ("codellama", f"<PRE> {PRE} <SUF>{SUF} <MID>"),
        ("codestral", f"[SUFFIX]{SUF}[PREFIX]{PRE}"),
        ("generic", PRE),
    ],
)
def test_layout(family: str, expected: str) -> None:
    assert render_fim(get_spec(family), PRE, SUF) == expected


def test_chat_spec_has_no_text_layout() -> None:
    with pytest.raises(ConfigError, match="chat"):
        render_fim(get_spec("chat"), PRE, SUF)


def test_repo_context_qwen_layout() -> None:
    text = render_repo_context(get_spec("qwen2.5-coder"), [("a.py", "x = 1"), ("b.py", "y = 2\n")],
                               repo_name="demo", current_file="c.py")
    assert text == "<|repo_name|>demo\n<|file_sep|>a.py\nx = 1\n<|file_sep|>b.py\ny = 2\n<|file_sep|>c.py\n"


def test_repo_context_empty_without_file_separator() -> None:
    assert render_repo_context(get_spec("codellama"), [("a.py", "x")], repo_name="r") == ""
    assert render_repo_context(get_spec("codegemma"), [("a.py", "x")], repo_name="r") == "<|file_separator|>a.py\nx\n"
