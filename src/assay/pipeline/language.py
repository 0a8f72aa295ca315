"""Stage 1: which language the cursor is in (file extension first, editor language id second)."""

from __future__ import annotations

from assay.languages import Language, detect_language
from assay.pipeline.types import CompletionInput


def language_of(inp: CompletionInput) -> Language | None:
    """The request's language, or None when neither the file name nor the editor id is known.

    Unknown languages still get completions; they only skip the tree-sitter steps.
    """
    return detect_language(inp.file_name, inp.language_id)
