"""Secret redaction for everything that leaves for a model, and restoration of what comes back.

The engine calls :func:`redact_completion` / :func:`redact_messages` with one :class:`SecretVault` per
request before any stage sees the text, and restores the answer with the same vault
(:meth:`SecretVault.restore`, :class:`StreamRestorer`). :func:`redact_text` serves ``assay redact``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assay.pipeline.redact.detect import Finding, find_secrets, line_column
from assay.pipeline.redact.vault import PLACEHOLDER, SecretVault, StreamRestorer
from assay.pipeline.types import CompletionInput, ContextFile
from assay.types import ChatMessage

__all__ = ["PLACEHOLDER", "Finding", "RedactedText", "Redaction", "SecretVault", "StreamRestorer",
           "find_secrets", "redact_completion", "redact_messages", "redact_text"]


def redact_completion(inp: CompletionInput, vault: SecretVault) -> CompletionInput:
    """``inp`` with secrets replaced in the prefix and suffix (as one text), each context file and the raw prompt."""
    vault.reserve([inp.prefix, inp.suffix, inp.raw_prompt or "", *(c.content for c in inp.context)])
    prefix, suffix = vault.redact_fim(inp.prefix, inp.suffix)
    context = tuple(ContextFile(c.name, vault.redact(c.content), c.type) for c in inp.context)
    raw = vault.redact(inp.raw_prompt) if inp.raw_prompt is not None else None
    return replace(inp, prefix=prefix, suffix=suffix, context=context, raw_prompt=raw)


def redact_messages(messages: tuple[ChatMessage, ...], vault: SecretVault) -> tuple[ChatMessage, ...]:
    """Chat messages with secrets replaced in each message's content."""
    vault.reserve(m.content for m in messages)
    return tuple(ChatMessage(m.role, vault.redact(m.content)) for m in messages)


@dataclass(frozen=True)
class Redaction:
    """One finding as ``assay redact --json`` reports it: where and what kind, never the secret."""

    kind: str
    line: int
    column: int
    placeholder: str


@dataclass(frozen=True)
class RedactedText:
    text: str
    findings: tuple[Redaction, ...]


def redact_text(text: str) -> RedactedText:
    """Redact one text; each finding with its 1-based line and column in the original text."""
    vault = SecretVault()
    vault.reserve([text])
    findings = find_secrets(text)
    out: list[str] = []
    reported: list[Redaction] = []
    pos = 0
    for f in findings:
        token = vault.placeholder(f)
        out += [text[pos:f.start], token]
        pos = f.end
        line, column = line_column(text, f.start)
        reported.append(Redaction(f.kind, line, column, token))
    out.append(text[pos:])
    return RedactedText("".join(out), tuple(reported))
