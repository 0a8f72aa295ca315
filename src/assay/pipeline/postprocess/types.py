"""What every post-processing step sees and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assay.languages import Language

Mode = Literal["single", "multi"]


@dataclass(frozen=True)
class PostContext:
    """The text around the cursor, the language, and whether one line or a block is wanted."""

    prefix: str
    suffix: str
    language: Language | None
    mode: Mode

    @property
    def line_before(self) -> str:
        """The cursor's line up to the cursor."""
        return self.prefix[self.prefix.rfind("\n") + 1:]

    @property
    def line_after(self) -> str:
        """The cursor's line from the cursor on (without the newline)."""
        end = self.suffix.find("\n")
        return self.suffix if end < 0 else self.suffix[:end]


@dataclass(frozen=True)
class Removal:
    """One step that changed a choice's text, and the text it took out."""

    step: str
    removed: str


@dataclass(frozen=True)
class PostResult:
    text: str
    removals: tuple[Removal, ...] = ()
