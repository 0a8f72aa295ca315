"""The model-spec schema: what a model family needs for fill-in-the-middle, declared as data.

One YAML file per family lives in ``assay/specs/data/``; see ``assay.specs.registry`` for loading and
matching. Specs are validated strictly (unknown keys refused) so a typo fails at start-up.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FimSpec(_Strict):
    mode: Literal["psm", "spm", "chat", "none"] = "psm"
    """psm: prefix-suffix-middle; spm: suffix-prefix-middle; chat: FIM-as-chat prompt; none: prefix only."""
    prefix: str = ""
    suffix: str = ""
    middle: str = ""


class RepoSpec(_Strict):
    """Repository-level tokens used to prepend context files (StarCoder2 / Qwen2.5-Coder style)."""

    repo_name: str | None = None
    file_sep: str | None = None


class BudgetDefaults(_Strict):
    max_tokens: int = 64
    time_budget_s: float = 2.0
    suffix_share: float = Field(0.25, ge=0.0, le=0.9)
    """Share of the prompt budget reserved for the suffix."""
    context_share: float = Field(0.3, ge=0.0, le=0.9)
    """Share of the prompt budget that context snippets from other files may take."""
    repetition_penalty: float = Field(1.0, ge=1.0, le=2.0)
    """Decoding penalty on repeated tokens for models that loop without one (models decoded in this process: local, ctranslate2, llamacpp)."""
    token_healing: bool = False
    """Heal a FIM prefix cut mid-token (``assay.providers.healing``; providers that see tokens only)."""
    prompt_tokens: int | None = None
    """Prompt budget in tokens; defaults to context_length - max_tokens."""


class ModelSpec(_Strict):
    family: str
    description: str = ""
    match: tuple[str, ...] = ()
    """fnmatch patterns (case-insensitive) on a model id or path that select this spec."""
    fim: FimSpec = FimSpec()
    repo: RepoSpec = RepoSpec()
    stop: tuple[str, ...] = ()
    eos: str | None = None
    context_length: int = 2048
    defaults: BudgetDefaults = BudgetDefaults()
    quirks: tuple[str, ...] = ()

    def special_tokens(self) -> list[str]:
        """Every literal control token the spec relies on (checked against the tokenizer at start)."""
        tokens = [self.fim.prefix, self.fim.suffix, self.fim.middle]
        if self.fim.mode == "chat":
            tokens = []
        tokens += [self.repo.repo_name or "", self.repo.file_sep or ""]
        return [t for t in tokens if t]
