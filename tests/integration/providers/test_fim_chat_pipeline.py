"""The engine reads FIM-as-chat replies as they stream: streamed text equals the non-streaming answer,
which equals post-processing the answer ``extract_fim_answer`` reads from the whole reply.

The replies come from the real ``echo`` provider (configured with the ``chat`` spec) in pieces of
``chunk_size`` characters; no model or network is involved.
"""

from __future__ import annotations

import pytest

from assay.config import Settings
from assay.pipeline.engine import Engine, StreamChunk
from assay.pipeline.language import language_of
from assay.pipeline.postprocess import context_for, postprocess
from assay.pipeline.types import CompletionInput, CompletionResult
from assay.providers.fim_chat import extract_fim_answer

MULTI = CompletionInput(prefix="def add(a, b):\n", suffix="\n\nprint(add(1, 2))\n", file_name="calc.py")
SINGLE = CompletionInput(prefix="x = add(", suffix=")\n", file_name="calc.py")

REPLIES = [
    "Sure:\n<COMPLETION>    total = a + b\n    return total\n</COMPLETION>\nDone.",
    "<COMPLETION>    return a + b\n\ndef sub(a, b):\n    return a - b\n</COMPLETION>",
    "<COMPLETION>    return a<CURSOR> + b</COMPLETION>",
    "<COMPLETION></COMPLETION>",
    "<COMPLETION>1, 2)</COMPLETION>",
    "<COMPLETION>1, 2",
    "Here:\n```python\n    return a + b\n```\nThat is all.",
    "    return a + b",
    "1, 2<CURSOR>",
]


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
async def test_streamed_chat_answer_equals_the_whole_reply_answer(chunk_size: int) -> None:
    models = [{"name": f"r{i}", "provider": "echo", "spec": "chat",
               "options": {"reply": reply, "chunk_size": chunk_size}} for i, reply in enumerate(REPLIES)]
    engine = Engine(Settings(models=models))
    await engine.start()
    try:
        for i, reply in enumerate(REPLIES):
            for base in (MULTI, SINGLE):
                inp = CompletionInput(prefix=base.prefix, suffix=base.suffix, file_name=base.file_name, model=f"r{i}")
                items = [item async for item in engine.stream_complete(inp)]
                final = items[-1]
                assert isinstance(final, CompletionResult)
                streamed = "".join(c.text for c in items if isinstance(c, StreamChunk))
                whole = (await engine.complete(inp)).choices[0].text
                expected = postprocess(extract_fim_answer(reply), context_for(inp.prefix, inp.suffix, language_of(inp))).text
                assert streamed == whole == final.choices[0].text == expected, (reply, base.prefix)
                assert reply.startswith(final.trace.raw_outputs[0])
    finally:
        await engine.close()


async def test_tagged_answer_reaches_the_client_in_pieces() -> None:
    model = {"name": "r", "provider": "echo", "spec": "chat", "options": {"reply": REPLIES[0], "chunk_size": 3}}
    engine = Engine(Settings(models=[model]))
    try:
        chunks = [c.text async for c in engine.stream_complete(MULTI) if isinstance(c, StreamChunk)]
    finally:
        await engine.close()
    assert chunks == ["    total = a + b", "\n    return total"]
