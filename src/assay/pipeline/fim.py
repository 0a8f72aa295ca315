"""Stage 4: assemble the prompt the model sees, from the spec's FIM layout.

* ``psm`` / ``spm`` / ``none``: context snippets first, then ``render_fim(spec, prefix, suffix)``.
  Context uses the spec's repository tokens when it has them (``<file_sep>name\\ncontent``), else
  it becomes comment blocks in the language's comment syntax naming each file, prepended to the
  prefix. Without a known comment syntax and without repository tokens, context is left out.
* ``chat``: chat messages from :func:`assay.providers.fim_chat.fim_chat_messages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assay.languages import Language
from assay.pipeline.context import Snippet
from assay.pipeline.types import ContextFile
from assay.specs.render import render_fim, render_repo_context
from assay.specs.schema import ModelSpec
from assay.types import ChatMessage, EngineRequest, GenerateParams


@dataclass(frozen=True)
class Prompt:
    """What goes to the provider: a text prompt or chat messages (exactly one of them)."""

    text: str | None = None
    messages: tuple[ChatMessage, ...] = ()

    def request(self, params: GenerateParams) -> EngineRequest:
        return EngineRequest(params=params, prompt=self.text, messages=self.messages)

    def shown(self) -> str:
        """The prompt as one string, for the trace."""
        if self.text is not None:
            return self.text
        return "\n".join(f"[{m.role}]\n{m.content}" for m in self.messages)


def comment_block(snippet: Snippet, language: Language | None) -> str:
    """A snippet as a comment naming its file; ``""`` when the language has no comment syntax."""
    header = f"Path: {snippet.file} (lines {snippet.start_line}-{snippet.end_line})"
    body = snippet.text.rstrip("\n")
    if language is not None and language.line_comment:
        mark = language.line_comment
        lines = [f"{mark} {header}"] + [f"{mark} {line}".rstrip() for line in body.split("\n")]
        return "\n".join(lines) + "\n"
    if language is not None and language.block_comment:
        start, end = language.block_comment
        if end in body:
            return ""
        return f"{start} {header}\n{body}\n{end}\n"
    return ""


def context_text(spec: ModelSpec, snippets: Sequence[Snippet], language: Language | None,
                 file_name: str | None) -> str:
    """The text put before the FIM prompt for ``snippets`` (``""`` when there are none)."""
    if not snippets:
        return ""
    if spec.repo.file_sep:
        return render_repo_context(spec, [(s.file, s.text) for s in snippets], current_file=file_name)
    return "".join(comment_block(s, language) for s in snippets)


def build_prompt(spec: ModelSpec, prefix: str, suffix: str, *, language: Language | None = None,
                 file_name: str | None = None, snippets: Sequence[Snippet] = ()) -> Prompt:
    """The final prompt for one completion in the layout ``spec.fim.mode`` asks for."""
    if spec.fim.mode == "chat":
        from assay.providers.fim_chat import fim_chat_messages

        messages = fim_chat_messages(prefix, suffix, language.name if language else None, file_name,
                                     [ContextFile(name=s.file, content=s.text) for s in snippets])
        return Prompt(messages=tuple(messages))
    context = context_text(spec, snippets, language, file_name)
    if spec.repo.file_sep and context:
        return Prompt(text=context + render_fim(spec, prefix, suffix))
    return Prompt(text=render_fim(spec, context + prefix, suffix))


def template_overhead(spec: ModelSpec) -> str:
    """The template's own text (FIM tokens around an empty prefix and suffix)."""
    if spec.fim.mode == "chat":
        return ""
    return render_fim(spec, "", "")
