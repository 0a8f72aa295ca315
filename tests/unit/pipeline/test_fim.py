"""Prompt assembly: FIM layouts from specs, repository tokens or comment blocks for context, chat."""

from __future__ import annotations

from assay.languages import get_language
from assay.pipeline.context import Snippet
from assay.pipeline.fim import build_prompt, comment_block
from assay.specs.registry import get_spec

SNIPPET = Snippet(file="util.py", start_line=3, end_line=4, score=0.5, text="def helper():\n    return 1\n", tokens=8)


def test_psm_without_context() -> None:
    prompt = build_prompt(get_spec("assay-nano"), "def f(", "):\n")
    assert prompt.text == "<fim_prefix>def f(<fim_suffix>):\n<fim_middle>"
    assert prompt.messages == ()


def test_repository_tokens_carry_context() -> None:
    prompt = build_prompt(get_spec("qwen2.5-coder"), "x = ", "\n", language=get_language("python"),
                          file_name="app.py", snippets=[SNIPPET])
    assert prompt.text == ("<|file_sep|>util.py\ndef helper():\n    return 1\n<|file_sep|>app.py\n"
                           "<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>")


def test_comment_blocks_when_the_spec_has_no_repository_tokens() -> None:
    spec = get_spec("codellama")
    assert spec.repo.file_sep is None
    prompt = build_prompt(spec, "x = ", "\n", language=get_language("python"), file_name="app.py", snippets=[SNIPPET])
    assert prompt.text is not None
    expected_block = "# Path: util.py (lines 3-4)\n# def helper():\n#     return 1\n"
    assert prompt.text.startswith(spec.fim.prefix + expected_block + "x = ")


def test_comment_block_uses_the_language_syntax() -> None:
    js = comment_block(SNIPPET, get_language("javascript"))
    assert js.startswith("// Path: util.py") and "// def helper():" in js
    html = comment_block(SNIPPET, get_language("html"))
    assert html.startswith("<!-- Path: util.py") and html.rstrip().endswith("-->")
    assert comment_block(SNIPPET, None) == ""


def test_spm_and_none_layouts() -> None:
    spm = build_prompt(get_spec("codestral"), "a", "b")
    assert spm.text is not None and spm.text.index("b") < spm.text.index("a")
    assert build_prompt(get_spec("generic"), "prefix only", "ignored").text == "prefix only"


def test_chat_specs_get_messages() -> None:
    prompt = build_prompt(get_spec("chat"), "def f(", "):", language=get_language("python"), file_name="a.py",
                          snippets=[SNIPPET])
    assert prompt.text is None
    assert [m.role for m in prompt.messages] == ["system", "user"]
    user = prompt.messages[1].content
    assert "def f(<CURSOR>):" in user and "util.py" in user and "a.py" in user
    assert "[user]" in prompt.shown()
