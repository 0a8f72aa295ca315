"""Token counts for the manifest: exact with a given tokenizer, else an approximation.

The approximation counts words and punctuation marks (``\\w+|[^\\w\\s]``), which tracks a
byte-level BPE trained on code to within a few tens of percent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assay.errors import ConfigError

_APPROX = re.compile(r"\w+|[^\w\s]")


class TokenCounter:
    def __init__(self, tokenizer: str | None = None) -> None:
        self._tok: Any = None
        self.kind = "approximate"
        if tokenizer:
            from tokenizers import Tokenizer

            path = Path(tokenizer)
            file = path / "tokenizer.json" if path.is_dir() else path
            if not file.is_file():
                raise ConfigError(f"tokenizer {tokenizer} not found: expected a tokenizer.json or a folder holding one")
            self._tok = Tokenizer.from_file(str(file))
            self.kind = f"tokenizer:{tokenizer}"

    def count(self, text: str) -> int:
        if self._tok is not None:
            return len(self._tok.encode(text, add_special_tokens=False).ids)
        return len(_APPROX.findall(text))
