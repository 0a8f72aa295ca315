'''FIM-as-chat: how a chat-only model (Claude, GPT) is asked to fill in the middle, and how its answer is read.

The prompt (what :func:`fim_chat_messages` builds)::

    system:  You are a code completion engine inside an editor. ... Reply with only the code that
             belongs at <CURSOR>, wrapped in <COMPLETION></COMPLETION> ... (the full text is SYSTEM_PROMPT)
    user:    Other files from the project, for reference:          (only when context is given)
             <file name="utils.py">
             ...content...
             </file>
             File: app.py (Python)                                  (file name / language when known)
             <code>
             {prefix}<CURSOR>{suffix}
             </code>

The answer is read by :func:`extract_fim_answer`: the text between ``<COMPLETION>`` and
``</COMPLETION>`` when the tag is present, else the body of the first fenced code block, else the
whole reply; a stray ``<CURSOR>`` marker is removed. The pipeline reads a streamed reply with
:class:`assay.providers.fim_chat_stream.FimAnswerStream`, which applies these rules incrementally and
gives the same answer. The pipeline's post-processing still trims text that repeats the suffix.
'''

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from assay.types import ChatMessage

CURSOR = "<CURSOR>"
OPEN_TAG, CLOSE_TAG = "<COMPLETION>", "</COMPLETION>"

SYSTEM_PROMPT = (
    "You are a code completion engine inside an editor. The user shows a file with the cursor marked "
    f"{CURSOR}. Reply with only the code that belongs at {CURSOR}, wrapped in {OPEN_TAG}{CLOSE_TAG}: "
    "the text that joins the code before the cursor to the code after it. Do not repeat code that is "
    "already before or after the cursor, do not explain, keep the file's indentation and style. "
    f"If nothing should be inserted, reply {OPEN_TAG}{CLOSE_TAG}."
)


class NamedText(Protocol):
    """A context file (``assay.pipeline.types.ContextFile`` fits)."""

    @property
    def name(self) -> str: ...

    @property
    def content(self) -> str: ...


def fim_chat_messages(prefix: str, suffix: str, language: str | None, file_name: str | None,
                      context: Iterable[NamedText] = ()) -> tuple[ChatMessage, ...]:
    """The system and user messages asking a chat model for the middle between ``prefix`` and ``suffix``."""
    parts: list[str] = []
    files = list(context)
    if files:
        parts.append("Other files from the project, for reference:")
        parts.extend(f'<file name="{f.name}">\n{f.content.rstrip()}\n</file>' for f in files)
    label = " ".join(p for p in (file_name, f"({language})" if language else None) if p)
    if label:
        parts.append(f"File: {label}")
    parts.append(f"<code>\n{prefix}{CURSOR}{suffix}\n</code>")
    return ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", "\n".join(parts))


_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


def extract_fim_answer(text: str) -> str:
    """The code a chat model put at the cursor (see the module docstring for the rules)."""
    start = text.find(OPEN_TAG)
    if start >= 0:
        body = text[start + len(OPEN_TAG):]
        end = body.find(CLOSE_TAG)
        answer = body if end < 0 else body[:end]
    elif fence := _FENCE.search(text):
        answer = fence.group(1)
    else:
        answer = text
    return answer.replace(CURSOR, "")
