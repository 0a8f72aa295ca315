"""The FIM-as-chat prompt and the answer extraction."""

from __future__ import annotations

from assay.providers.fim_chat import CURSOR, SYSTEM_PROMPT, extract_fim_answer, fim_chat_messages


class File:
    def __init__(self, name: str, content: str) -> None:
        self.name, self.content = name, content


def test_messages_hold_system_prompt_context_and_cursor() -> None:
    system, user = fim_chat_messages("def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n", "Python", "calc.py",
                                     [File("util.py", "def mul(a, b):\n    return a * b\n")])
    assert system.role == "system" and system.content == SYSTEM_PROMPT
    assert user.role == "user"
    assert '<file name="util.py">\ndef mul(a, b):\n    return a * b\n</file>' in user.content
    assert "File: calc.py (Python)" in user.content
    assert f"<code>\ndef add(a, b):\n    return {CURSOR}\n\nprint(add(1, 2))\n\n</code>" in user.content
    assert user.content.index("util.py") < user.content.index("calc.py")


def test_messages_without_context_or_names() -> None:
    _, user = fim_chat_messages("x = ", "", None, None)
    assert user.content == f"<code>\nx = {CURSOR}\n</code>"


def test_extract_from_tags() -> None:
    assert extract_fim_answer("Sure! <COMPLETION>a + b</COMPLETION> done") == "a + b"
    assert extract_fim_answer("<COMPLETION>a + b") == "a + b"
    assert extract_fim_answer("<COMPLETION></COMPLETION>") == ""


def test_extract_from_code_fence() -> None:
    assert extract_fim_answer("Here:\n```python\nreturn a + b\n```\nThat's it.") == "return a + b"
    assert extract_fim_answer("```\nx\ny\n```") == "x\ny"


def test_extract_plain_and_cursor_marker() -> None:
    assert extract_fim_answer("a + b") == "a + b"
    assert extract_fim_answer(f"a + b{CURSOR}") == "a + b"
