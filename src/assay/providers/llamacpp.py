"""The ``llamacpp`` provider: a GGUF file served in this process through llama.cpp (llama-cpp-python).

``path`` is a ``.gguf`` file (``assay export MODEL --format gguf`` writes one). The context is the
spec's ``context_length``, else the file's, and prompts are held to at most the file's training
context; ``options.threads`` sets llama.cpp's thread count (see :class:`LlamaCppOptions`). Threads, locking, streaming, prompts, stops and healing requests are
:class:`~assay.providers.inprocess.InProcessProvider`'s, with the local provider's contract:

* greedy when ``temperature == 0``, else sampling with ``temperature`` / ``top_p`` (``seed`` makes it
  repeatable; choice ``i`` of ``n`` uses ``seed + i``); choices are decoded one after the other and
  reuse the prompt's KV cache;
* ``repetition_penalty`` is CTRL-style over the prompt and the output, as in transformers (applied as
  a logits processor; llama.cpp's own penalty only looks at the last 64 generated tokens);
* stops at ``max_tokens``, at an end-of-generation token, as soon as the text contains a stop sequence
  (cut before it), when ``time_budget_s`` (shared by the ``n`` choices) runs out (``FinishReason.TIME``),
  or when the client goes away;
* the prompt is tokenized with special tokens parsed as such; BOS is added only when the file asks for
  it and the prompt does not already start with it;
* token healing (:mod:`assay.providers.healing`) with the vocabulary read from the GGUF file.

Chat requests use the file's chat template when it has one, else the local provider's plain layout.
Raises ``ConfigError`` at start when llama-cpp-python is missing (``pip install --find-links wheels
-e ".[gguf]"``), or the file is missing or not GGUF.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from assay.config import ModelConfig
from assay.errors import ConfigError
from assay.providers.base import TokenCounter
from assay.providers.healing import HealingConstraint, Vocabulary
from assay.providers.hf_tokenizer import first_line
from assay.providers.inprocess import ChoiceJob, DecodeOutcome, InProcessProvider
from assay.providers.options import ProviderOptions, parse_options
from assay.providers.stops import StopScanner
from assay.specs.schema import ModelSpec
from assay.types import ChatMessage, FinishReason

if TYPE_CHECKING:
    from llama_cpp import Llama

GGUF_MAGIC = b"GGUF"
_ATTR_CONTROL = 1 << 3
_ATTR_USER_DEFINED = 1 << 4
"""llama.cpp's ``LLAMA_TOKEN_ATTR_CONTROL`` / ``_USER_DEFINED`` bits (``llama_cpp`` is imported only at load)."""


class GgufTokenizer:
    """llama.cpp's tokenizer as a ``TokenCounter``: no BOS/EOS added, special tokens parsed and kept as text."""

    def __init__(self, llm: Llama) -> None:
        self.llm = llm

    def encode(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def decode(self, ids: list[int]) -> str:
        return self.llm.detokenize(ids, special=True).decode("utf-8", errors="replace")


class CtrlPenalty:
    """A llama-cpp-python logits processor: transformers' repetition penalty over every token seen so far."""

    def __init__(self, penalty: float) -> None:
        self.penalty = penalty

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        seen = np.unique(input_ids)
        picked = scores[seen]
        scores[seen] = np.where(picked > 0, picked / self.penalty, picked * self.penalty)
        return scores


class HealingMask:
    """A llama-cpp-python logits processor: while healing, every token but the allowed ones gets ``-inf``."""

    def __init__(self, constraint: HealingConstraint, prompt_len: int) -> None:
        self.constraint = constraint
        self.prompt_len = prompt_len

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        allowed = self.constraint.allowed([int(i) for i in input_ids[self.prompt_len:]])
        if allowed is None:
            return scores
        masked = np.full_like(scores, -np.inf)
        keep = [i for i in allowed if i < len(scores)]
        masked[keep] = scores[keep]
        return masked


LLAMACPP_THREADS_DEFAULT = 0
"""See :attr:`LlamaCppOptions.threads`."""


class LlamaCppOptions(ProviderOptions):
    """The model entry's ``options:`` for the ``llamacpp`` provider."""

    threads: int = Field(LLAMACPP_THREADS_DEFAULT, ge=0)
    """llama.cpp's decoding threads (``n_threads``); 0 = llama-cpp-python's default (half the CPUs, at least 1).

    Default 0: llama-cpp-python already takes half the CPUs, one thread on the 2-core target machine, which
    is what the local provider's measurement favours there (see ``assay.providers.local.LocalOptions``)."""


def check_gguf_file(path: str | None, model: str) -> Path:
    """The GGUF file ``path`` names; ``ConfigError`` when it is unset, missing, or not a GGUF file."""
    if not path:
        raise ConfigError(f"model '{model}': provider llamacpp needs path: a .gguf file")
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"model '{model}': GGUF file '{path}' does not exist")
    with file.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise ConfigError(f"model '{model}': '{path}' is not a GGUF file (export one with assay export --format gguf)")
    return file


class LlamaCppProvider(InProcessProvider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.options = parse_options(config, LlamaCppOptions)
        self.llm: Llama | None = None
        self._vocab: Vocabulary | None = None

    def _is_loaded(self) -> bool:
        return self.llm is not None

    def _load(self) -> None:
        file = check_gguf_file(self.config.path, self.name)
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ConfigError(f"model '{self.name}': provider llamacpp needs llama-cpp-python; install it with "
                              "pip install --find-links wheels -e \".[gguf]\"") from None
        kwargs: dict[str, Any] = {"n_ctx": self.spec.context_length or 0, "logits_all": False, "verbose": False}
        if self.options.threads:
            kwargs["n_threads"] = self.options.threads
        try:
            self.llm = Llama(model_path=str(file), **kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"model '{self.name}': llama.cpp cannot load '{file}': {first_line(exc)}") from None

    def _unload(self) -> None:
        if self.llm is not None:
            self.llm.close()
        self.llm = None

    def tokenizer(self) -> TokenCounter | None:
        return GgufTokenizer(self.llm) if self.llm is not None else None

    def _attrs(self) -> list[int]:
        assert self.llm is not None
        return [self.llm._model.token_get_attr(i) for i in range(self.llm.n_vocab())]

    def special_tokens(self) -> set[str] | None:
        if self.llm is None:
            return None
        model = self.llm._model
        return {model.token_get_text(i) for i, attr in enumerate(self._attrs()) if attr & _ATTR_CONTROL}

    def _vocabulary(self) -> Vocabulary:
        """Every token's bytes in running text; control and user-defined tokens are never healed with."""
        if self._vocab is None:
            assert self.llm is not None
            attrs = self._attrs()
            pieces = [self.llm.detokenize([i], special=True) for i in range(len(attrs))]
            added = {i for i, attr in enumerate(attrs) if attr & (_ATTR_CONTROL | _ATTR_USER_DEFINED)}
            self._vocab = Vocabulary(pieces, added)
        return self._vocab

    def _bos_text(self) -> str:
        """BOS as text when the file asks for it, else empty."""
        assert self.llm is not None
        model = self.llm._model
        return model.token_get_text(self.llm.token_bos()) if model.add_bos_token() else ""

    def _render_chat(self, messages: tuple[ChatMessage, ...]) -> str | None:
        assert self.llm is not None
        if not (template := self.llm.metadata.get("tokenizer.chat_template")):
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = Jinja2ChatFormatter(template, eos_token=self._eos_text(), bos_token=self._bos_text())
        return formatter(messages=[{"role": m.role, "content": m.content} for m in messages]).prompt

    def _encode_prompt(self, text: str, templated: bool) -> list[int]:
        assert self.llm is not None
        bos = self._bos_text()
        return self.llm.tokenize(text.encode("utf-8"), add_bos=bool(bos) and not text.startswith(bos), special=True)

    def _eos_text(self) -> str:
        assert self.llm is not None
        return self.llm._model.token_get_text(self.llm.token_eos())

    def _start_ids(self) -> list[int]:
        """BOS, else end-of-text (the document separator of GPT-2-style vocabularies)."""
        assert self.llm is not None
        return [i for i in (self.llm.token_bos(), self.llm.token_eos()) if i >= 0][:1]

    def _context_length(self) -> int:
        """The loaded context, at most what the model was trained on."""
        assert self.llm is not None
        return min(self.llm.n_ctx(), self.llm._model.n_ctx_train() or self.llm.n_ctx())

    def _eos_ids(self) -> list[int]:
        assert self.llm is not None
        return [i for i in dict.fromkeys((self.llm.token_eos(), self.llm._model.token_eot())) if i >= 0]

    def _generate_one(self, job: ChoiceJob) -> DecodeOutcome:
        from llama_cpp import LogitsProcessorList

        llm = self.llm
        assert llm is not None
        params = job.params
        decode = job.healing.text if job.healing is not None else GgufTokenizer(llm).decode

        def text_of(ids: list[int]) -> str:
            return decode(job.visible(ids))

        processors: list[Any] = []
        if params.repetition_penalty != 1.0:
            processors.append(CtrlPenalty(params.repetition_penalty))
        if job.healing is not None:
            processors.append(HealingMask(job.healing, len(job.ids)))
        sampling = params.temperature > 0
        if sampling:
            llm.set_seed(params.seed + job.index if params.seed is not None else random.randrange(2**31))
        scanner = StopScanner(job.stops)
        generated: list[int] = []
        reason = FinishReason.LENGTH
        tokens = llm.generate(job.ids, temp=params.temperature, top_p=params.top_p if sampling else 1.0, top_k=0,
                              min_p=0.0, typical_p=1.0, repeat_penalty=1.0, reset=True,
                              logits_processor=LogitsProcessorList(processors) if processors else None)
        count = 0
        for token in tokens:
            count += 1
            if token in job.eos_ids:
                reason = FinishReason.STOP
                break
            generated.append(token)
            if delta := scanner.update(text_of(generated)):
                job.emit_text(delta)
            if scanner.stopped:
                reason = FinishReason.STOP
                break
            if count >= job.max_new or job.cancelled.is_set():
                break
            if job.deadline is not None and time.monotonic() >= job.deadline:
                reason = FinishReason.TIME
                break
        tokens.close()
        return DecodeOutcome(scanner.text, scanner.finish(), reason, count)
