"""The Engine with the real ``echo`` provider: what the trace records about redaction and exclusion.

The echo provider answers the last line of the prompt it received, so it shows exactly what a model
saw; the trace must count redactions by kind and never hold a secret.
"""

from __future__ import annotations

import json

from assay.config import Settings
from assay.pipeline.engine import ChatInput, Engine
from assay.pipeline.types import CompletionInput, ContextFile
from assay.types import ChatMessage

GHP = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
KEY = "AKIA" + "Q2W3E4R5T6Y7U8I9"


def _engine(**extra: object) -> Engine:
    return Engine(Settings(models=[{"name": "echo", "provider": "echo", "options": {"mode": "echo"}}], **extra))


async def test_the_model_sees_placeholders_and_the_client_gets_the_secret_back() -> None:
    engine = _engine()
    inp = CompletionInput(prefix=f'import os\nTOKEN = "{GHP}"\nclient = make(TOKEN, "{KEY}")\n', suffix="\n",
                          file_name="app.py", context=(ContextFile("lib.py", f"TOKEN = '{GHP}'\npassword = 'hunter22'\n"),))
    result = await engine.complete(inp)
    trace = result.trace
    assert trace.raw_outputs == ['client = make(TOKEN, "<ASSAY_SECRET_2>")']
    assert result.choices[0].text == f'client = make(TOKEN, "{KEY}")'
    assert trace.redactions == [{"kind": "aws_access_key_id", "count": 1}, {"kind": "github_token", "count": 2},
                                {"kind": "password", "count": 1}]
    dumped = json.dumps(trace.as_dict())
    assert GHP not in dumped and KEY not in dumped and "hunter22" not in dumped


async def test_streamed_completion_restores_like_the_whole_answer() -> None:
    engine = _engine()
    inp = CompletionInput(prefix=f'key = "{KEY}"\nuse(key, "{KEY}")\n', suffix="", file_name="a.py")
    chunks = [c.text async for c in engine.stream_complete(inp) if hasattr(c, "text")]
    whole = await engine.complete(inp)
    assert "".join(chunks) == whole.choices[0].text == f'use(key, "{KEY}")'


async def test_chat_is_redacted_and_restored() -> None:
    engine = _engine()
    generation = await engine.chat(ChatInput(messages=(ChatMessage("user", f"is {KEY} valid?"),)))
    assert generation.choices[0].text == f"is {KEY} valid?"
    streamed = [c.text async for c in engine.stream_chat(ChatInput(messages=(ChatMessage("user", f"k={KEY}"),)))
                if hasattr(c, "text")]
    assert "".join(streamed) == f"k={KEY}"


async def test_redaction_can_be_turned_off() -> None:
    engine = _engine(redaction={"enabled": False})
    result = await engine.complete(CompletionInput(prefix=f'x = "{KEY}"\n', file_name="a.py"))
    assert result.trace.redactions == []
    assert KEY in result.trace.prompt


async def test_an_excluded_file_makes_no_model_call() -> None:
    engine = _engine(exclusion={"patterns": ["*.pem"]})
    await engine.start()
    provider = engine._providers["echo"]
    result = await engine.complete(CompletionInput(prefix="MIIE", file_name="certs/server.pem"))
    assert [c.text for c in result.choices] == [""]
    assert result.trace.exclusion == {"current_file": True, "context_dropped": 0}
    generation = await engine.chat(ChatInput(messages=(ChatMessage("user", "x"),), file_name="a/b.pem"))
    assert generation.choices == ()
    assert provider.calls == 0
    await engine.close()
