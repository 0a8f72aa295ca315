"""Load every prompt file under a folder and resolve one by feature id, model family and version.

Layout: ``<root>/<feature>/<family>/<X.Y.Z>.yml``; ``feature`` may contain slashes (``chat/explain_code``).
Resolution (as GitLab's gateway does it): the family is the first of the caller's candidates the
feature has a folder for (``model_metadata.name``, then the serving model's spec family, each also
through ``FAMILY_ALIASES``), else ``base``; the semver constraint (default ``^1.0.0``) picks the highest
matching version in that folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from packaging.version import Version
from pydantic import ValidationError

from assay.errors import AssayError, ConfigError, RequestInvalid
from assay.prompts.render import CompiledTemplates, check_inputs, compile_templates, render_messages
from assay.prompts.schema import PromptFile
from assay.prompts.semver import DEFAULT_CONSTRAINT, highest_match, parse_version
from assay.types import ChatMessage

BASE_FAMILY = "base"
"""The variant for large chat models (Claude, GPT, ...) and the fallback for every other family."""
SMALL_FAMILY = "small"
"""The variant for small local models."""
FAMILY_ALIASES: Mapping[str, str] = {"assay-nano": SMALL_FAMILY, "starcoder1": SMALL_FAMILY}
"""Model-spec families that share another family's prompts."""
DEFINITIONS = Path(__file__).resolve().parent / "definitions"


class PromptNotFound(AssayError):
    """No prompt (or no version of it matching the constraint): 404."""

    status_code = 404


@dataclass(frozen=True)
class PromptParams:
    temperature: float
    max_tokens: int
    top_p: float
    stop: tuple[str, ...] = ()
    timeout_s: float | None = None


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready for the chat model: messages plus the decoding parameters its file declares."""

    feature: str
    family: str
    version: str
    messages: tuple[ChatMessage, ...]
    params: PromptParams
    unit_primitives: tuple[str, ...]

    @property
    def prefill(self) -> str:
        """The assistant pre-fill the reply continues ("" when the file has none)."""
        last = self.messages[-1]
        return last.content if last.role == "assistant" else ""

    def transcript(self) -> str:
        """The messages as one text (``[role]`` headers), e.g. for eval records and ``assay prompts render``."""
        return "\n".join(f"[{m.role}]\n{m.content}" for m in self.messages)


@dataclass(frozen=True)
class Prompt:
    feature: str
    family: str
    version: Version
    path: Path
    data: PromptFile
    templates: CompiledTemplates = field(repr=False)

    @property
    def id(self) -> str:
        return f"{self.feature}/{self.family}"

    def params(self) -> PromptParams:
        p = self.data.model.params
        return PromptParams(temperature=p.temperature, max_tokens=p.max_tokens, top_p=p.top_p,
                            stop=self.data.params.stop, timeout_s=self.data.params.timeout_s)

    @property
    def primary_input(self) -> str:
        """The input that free text fills: the first required one declared (else the first declared)."""
        names = [n for n, s in self.data.inputs.items() if s.required] or list(self.data.inputs)
        if not names:
            raise ConfigError(f"{self.path}: inputs: a prompt needs at least one input")
        return names[0]

    def inputs_from_text(self, text: str) -> dict[str, Any]:
        """Inputs from one piece of free text (a chat message): a JSON object is taken as the inputs
        themselves; any other text becomes the value of :attr:`primary_input`."""
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                parsed = json.loads(stripped)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        return {self.primary_input: text}

    def render(self, inputs: Mapping[str, Any]) -> RenderedPrompt:
        """Check ``inputs`` and render; ``RequestInvalid`` (422) naming the bad input."""
        values = check_inputs(self.data.inputs, inputs)
        return RenderedPrompt(feature=self.feature, family=self.family, version=str(self.version),
                              messages=render_messages(self.templates, values), params=self.params(),
                              unit_primitives=self.data.unit_primitives)


def _error_location(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"{loc}: {first['msg']}" if loc else first["msg"]


def load_prompt_file(path: Path, root: Path) -> Prompt:
    """Parse and compile one file; ``ConfigError`` naming the file and the bad field."""
    parts = path.relative_to(root).parts
    if len(parts) < 3:
        raise ConfigError(f"{path}: prompt files belong at <feature>/<family>/<X.Y.Z>.yml under {root}")
    try:
        version = parse_version(path.stem)
    except RequestInvalid:
        raise ConfigError(f"{path}: the file name must be a version X.Y.Z followed by .yml") from None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a prompt file must be a mapping")
    try:
        data = PromptFile(**raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_error_location(exc)}") from None
    return Prompt(feature="/".join(parts[:-2]), family=parts[-2], version=version, path=path, data=data,
                  templates=compile_templates(data, str(path)))


class PromptRegistry:
    """Every loaded prompt, indexed by feature → family → version."""

    def __init__(self, prompts: Iterable[Prompt]) -> None:
        self._index: dict[str, dict[str, dict[Version, Prompt]]] = {}
        for p in prompts:
            self._index.setdefault(p.feature, {}).setdefault(p.family, {})[p.version] = p

    @classmethod
    def load(cls, root: Path | str = DEFINITIONS) -> PromptRegistry:
        """Load every ``*.yml`` under ``root``; the first invalid file raises ``ConfigError``."""
        root = Path(root)
        if not root.is_dir():
            raise ConfigError(f"prompt folder {root} does not exist")
        stray = sorted(p for p in root.rglob("*.yaml"))
        if stray:
            raise ConfigError(f"{stray[0]}: prompt files end in .yml")
        return cls(load_prompt_file(p, root) for p in sorted(root.rglob("*.yml")))

    def features(self) -> list[str]:
        return sorted(self._index)

    def families(self, feature: str) -> list[str]:
        return sorted(self._index.get(feature, {}))

    def known_families(self) -> list[str]:
        """Every family some prompt has a variant for, and the aliases (``FAMILY_ALIASES``) of those."""
        have = {family for families in self._index.values() for family in families}
        return sorted(have | {alias for alias, target in FAMILY_ALIASES.items() if target in have})

    def require_family(self, family: str) -> None:
        """``PromptNotFound`` naming the known families when ``family`` is none of them: a family asked for by
        name (``assay prompts --family``) is a typo when unknown, not a request for the ``base`` fallback that
        a serving model's family gets."""
        known = self.known_families()
        if family.lower() not in known:
            raise PromptNotFound(f"unknown prompt family '{family}'; known families: {', '.join(known) or 'none'}")

    def prompts(self) -> list[Prompt]:
        return [p for fam in self._index.values() for vers in fam.values() for p in vers.values()]

    def __contains__(self, feature: object) -> bool:
        return feature in self._index

    def split_id(self, prompt_id: str) -> tuple[str, str | None]:
        """``feature`` or ``feature/family`` (as Rails sends it) → (feature, family or None)."""
        prompt_id = prompt_id.strip("/")
        if prompt_id in self._index:
            return prompt_id, None
        head, _, tail = prompt_id.rpartition("/")
        if head in self._index and tail in self._index[head]:
            return head, tail
        known = ", ".join(self.features()) or "none"
        raise PromptNotFound(f"unknown prompt '{prompt_id}'; known prompts: {known}")

    def family_for(self, feature: str, *candidates: str | None) -> str:
        """The first candidate family (or its alias) ``feature`` has a variant for, else ``base``."""
        have = self._index.get(feature, {})
        for c in candidates:
            if not c:
                continue
            for name in (c, c.lower(), FAMILY_ALIASES.get(c.lower())):
                if name and name in have:
                    return name
        return BASE_FAMILY

    def resolve(self, prompt_id: str, *families: str | None, constraint: str | None = None) -> Prompt:
        """The prompt for ``prompt_id`` (``feature`` or ``feature/family``), the best family among
        ``families`` and the highest version matching ``constraint``. 404 when none fits; 422 for a bad
        constraint."""
        feature, pinned = self.split_id(prompt_id)
        family = pinned or self.family_for(feature, *families)
        versions = self._index[feature].get(family)
        if not versions:
            raise PromptNotFound(f"prompt '{feature}' has no '{family}' variant; families: "
                                 f"{', '.join(self.families(feature))}")
        wanted = constraint or DEFAULT_CONSTRAINT
        best = highest_match(versions, wanted)
        if best is None:
            listed = ", ".join(str(v) for v in sorted(versions))
            raise PromptNotFound(f"prompt '{feature}/{family}' has no version matching '{wanted}'; versions: {listed}")
        return versions[best]


@lru_cache(maxsize=1)
def default_registry() -> PromptRegistry:
    """The prompts shipped with assay (loaded once; an invalid file raises ``ConfigError``)."""
    return PromptRegistry.load(DEFINITIONS)


def family_for_model(model_name: str | None, spec_family: str | None) -> tuple[str | None, ...]:
    """The family candidates in resolution order: ``model_metadata.name``, then the serving model's spec family."""
    return tuple(c for c in (model_name, spec_family) if c)
