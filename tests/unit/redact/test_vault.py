"""Placeholders and restoration: stable per request, FIM-aware, line-wise restore, streams like wholes."""

from __future__ import annotations

import pytest

from assay.pipeline.redact import SecretVault, StreamRestorer, redact_completion, redact_messages, redact_text
from assay.pipeline.types import CompletionInput, ContextFile
from assay.types import ChatMessage

KEY = "AKIA" + "Q2W3E4R5T6Y7U8I9"
GHP = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


def test_the_same_secret_gets_the_same_placeholder_everywhere_in_a_request() -> None:
    vault = SecretVault()
    first = vault.redact(f"a = '{KEY}'\nb = '{GHP}'\n")
    second = vault.redact(f"c = '{GHP}'  # and {KEY}\n")
    assert first == "a = '<ASSAY_SECRET_1>'\nb = '<ASSAY_SECRET_2>'\n"
    assert second == "c = '<ASSAY_SECRET_2>'  # and <ASSAY_SECRET_1>\n"
    assert vault.counts() == [{"kind": "aws_access_key_id", "count": 2}, {"kind": "github_token", "count": 2}]


def test_echoed_placeholders_are_restored() -> None:
    vault = SecretVault()
    vault.redact(f"key = '{KEY}'")
    assert vault.restore("client(key='<ASSAY_SECRET_1>')\nok()\n") == f"client(key='{KEY}')\nok()\n"


def test_a_line_with_a_placeholder_the_model_made_up_is_dropped_whole() -> None:
    vault = SecretVault()
    vault.redact(f"key = '{KEY}'")
    assert vault.restore("a = 1\nb = '<ASSAY_SECRET_7>'\nc = 3") == "a = 1\nc = 3"


@pytest.mark.parametrize("tail", ["<ASSAY_SECRET_", "<ASSAY_SEC", "<ASSA", "<ASSAY_SECRET_1"])
def test_a_last_line_ending_in_a_cut_off_placeholder_is_dropped(tail: str) -> None:
    vault = SecretVault()
    vault.redact(f"key = '{KEY}'")
    assert vault.restore(f"x = 1\nkey = '{tail}") == "x = 1\n"


def test_a_short_angle_bracket_at_the_end_is_kept() -> None:
    vault = SecretVault()
    vault.redact(f"key = '{KEY}'")
    assert vault.restore("if a <") == "if a <"


def test_without_secrets_the_answer_passes_through_untouched() -> None:
    vault = SecretVault()
    vault.redact("nothing here")
    text = "literal <ASSAY_SECRET_3> in user code\n<ASSAY_SEC"
    assert vault.restore(text) == text
    restorer = StreamRestorer(vault)
    assert restorer.feed("abc") == "abc" and restorer.flush() == ""


def test_a_stream_restores_exactly_like_the_whole_answer() -> None:
    vault = SecretVault()
    vault.redact(f"k = '{KEY}'; t = '{GHP}'")
    answer = "x = '<ASSAY_SECRET_1>'\ny = '<ASSAY_SECRET_9>'\nz = '<ASSAY_SECRET_2>'\nw = '<ASSAY_SE"
    for size in (1, 3, 7, 1000):
        restorer = StreamRestorer(vault)
        streamed = "".join(restorer.feed(answer[i:i + size]) for i in range(0, len(answer), size))
        streamed += restorer.flush()
        assert streamed == vault.restore(answer) == f"x = '{KEY}'\nz = '{GHP}'\n"


def test_a_secret_split_by_the_cursor_is_found_and_leaves_nothing_in_the_suffix() -> None:
    vault = SecretVault()
    prefix, suffix = vault.redact_fim(f"token = '{GHP[:12]}", f"{GHP[12:]}'\nnext_line()\n")
    assert prefix == "token = '<ASSAY_SECRET_1>"
    assert suffix == "'\nnext_line()\n"
    assert GHP[12:] not in suffix


def test_fim_redaction_of_secrets_on_each_side() -> None:
    vault = SecretVault()
    prefix, suffix = vault.redact_fim(f"a = '{KEY}'\n", f"\nb = '{GHP}'\nc = '{KEY}'\n")
    assert prefix == "a = '<ASSAY_SECRET_1>'\n"
    assert suffix == "\nb = '<ASSAY_SECRET_2>'\nc = '<ASSAY_SECRET_1>'\n"


def test_redact_completion_covers_prefix_suffix_context_and_raw_prompt() -> None:
    vault = SecretVault()
    inp = CompletionInput(prefix=f"k = '{KEY}'\n", suffix=f"t = '{GHP}'\n", file_name="a.py",
                          context=(ContextFile("b.py", f"password = 'hunter22'\nk2 = '{KEY}'\n"),),
                          raw_prompt=f"<fim>{GHP}")
    out = redact_completion(inp, vault)
    joined = out.prefix + out.suffix + out.context[0].content + (out.raw_prompt or "")
    assert KEY not in joined and GHP not in joined and "hunter22" not in joined
    assert out.context[0].name == "b.py" and out.file_name == "a.py"
    assert out.raw_prompt == "<fim><ASSAY_SECRET_2>"


def test_redact_messages_keeps_roles() -> None:
    vault = SecretVault()
    out = redact_messages((ChatMessage("system", "be brief"), ChatMessage("user", f"why does {KEY} fail?")), vault)
    assert out == (ChatMessage("system", "be brief"), ChatMessage("user", "why does <ASSAY_SECRET_1> fail?"))


def test_mask_hides_known_secrets_in_any_text() -> None:
    vault = SecretVault()
    vault.redact(f"k = '{KEY}'")
    assert vault.mask(f"echoed {KEY}!") == "echoed <ASSAY_SECRET_1>!"


def test_redact_text_reports_kind_line_column_and_placeholder_only() -> None:
    result = redact_text(f"first\n  key = '{KEY}'\npassword: hunter22\n")
    assert result.text == "first\n  key = '<ASSAY_SECRET_1>'\npassword: <ASSAY_SECRET_2>\n"
    assert [(f.kind, f.line, f.column, f.placeholder) for f in result.findings] == [
        ("aws_access_key_id", 2, 10, "<ASSAY_SECRET_1>"), ("password", 3, 11, "<ASSAY_SECRET_2>")]


def test_placeholder_text_the_user_wrote_is_neither_reused_nor_dropped() -> None:
    vault = SecretVault()
    inp = CompletionInput(prefix=f"doc = '<ASSAY_SECRET_1> marks a secret'\nkey = '{KEY}'\n")
    out = redact_completion(inp, vault)
    assert out.prefix == "doc = '<ASSAY_SECRET_1> marks a secret'\nkey = '<ASSAY_SECRET_2>'\n"
    assert vault.restore("a('<ASSAY_SECRET_1>')\nb('<ASSAY_SECRET_2>')\n") == f"a('<ASSAY_SECRET_1>')\nb('{KEY}')\n"
