"""The ``local`` provider: a transformers causal LM in this process (CPU here, CUDA when present).

``path`` is a Hugging Face id, a local model directory, or ``builtin:assay-nano`` (the weights shipped
in ``assay/weights/assay-nano``). Decoding runs in a worker thread, one generation at a time per model
(a lock), and streams text deltas back through an asyncio queue:

* greedy when ``temperature == 0``, else sampling with ``temperature`` / ``top_p`` (``seed`` makes
  it repeatable; choice ``i`` of ``n`` uses ``seed + i``);
* stops at ``max_tokens``, at the end-of-text token, as soon as the text contains a stop sequence
  (cut before it), or when ``time_budget_s`` (counted from the start of decoding, shared by the ``n`` choices) runs out
  (``FinishReason.TIME``);
* the prompt is tokenized as given, special tokens parsed as such; BOS is added only when the
  tokenizer's own configuration adds one and the prompt does not already start with it;
* only complete UTF-8 text is streamed (see :mod:`assay.providers.stops`);
* token healing (:mod:`assay.providers.healing`): :meth:`LocalProvider.heal_split` cuts a prefix at a
  token boundary, and a request with ``healed`` text has its first tokens constrained to reproduce it
  (streamed and returned without it). Tokenizers that are neither byte-level BPE nor SentencePiece
  with byte fallback do not heal.

Chat requests are rendered with the tokenizer's chat template when it has one, else as the plain
layout ``System: ...\\n\\nUser: ...\\n\\nAssistant:`` with ``\\nUser:`` as an extra stop sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.config import BUILTIN_PREFIX, ModelConfig
from assay.errors import AssayError, ConfigError, ProviderError, RequestInvalid
from assay.providers.base import Provider, TokenCounter
from assay.providers.healing import (
    HealingConstraint,
    HealingLogitsProcessor,
    HealSplit,
    Vocabulary,
    split_for_healing,
)
from assay.providers.hf_tokenizer import HFTokenizer, first_line, missing_directory
from assay.providers.local_decode import ChoiceDecoder, DecodeOutcome
from assay.specs.schema import ModelSpec
from assay.types import ChatMessage, EngineRequest, GenerateParams, TextDelta, Usage

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PLAIN_CHAT_STOP = "\nUser:"


def resolve_model_path(path: str) -> str:
    """``builtin:NAME`` → the packaged weights directory (``ConfigError`` when absent); anything else as given."""
    if not path.startswith(BUILTIN_PREFIX):
        return path
    name = path[len(BUILTIN_PREFIX):]
    directory = Path(str(resources.files("assay") / "weights" / name))
    if not (directory / "config.json").is_file():
        raise ConfigError(f"built-in model '{name}' has no weights at {directory}; build them with `assay train nano`")
    return str(directory)


def plain_chat_prompt(messages: tuple[ChatMessage, ...]) -> str:
    """The documented fallback chat layout for tokenizers without a chat template."""
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    turns = [f"{names[m.role]}: {m.content}" for m in messages]
    return "\n\n".join(turns) + "\n\nAssistant:"


class LocalProvider(Provider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.model: PreTrainedModel | None = None
        self.tok: PreTrainedTokenizerBase | None = None
        self.device = "cpu"
        self._vocab: Vocabulary | None | bool = False
        """The tokenizer's healing vocabulary; False = not built yet, None = this tokenizer cannot heal."""
        self._lock = threading.Lock()
        self._start_lock = asyncio.Lock()

    @property
    def source(self) -> str:
        return self.config.path or self.config.upstream_model

    async def start(self) -> None:
        async with self._start_lock:
            if self.model is None:
                await asyncio.to_thread(self._load)

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        if missing_directory(self.source):
            raise ConfigError(f"model '{self.name}': model directory '{self.source}' does not exist")
        where = resolve_model_path(self.source)
        wanted = self.config.device
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.float32
        if wanted.startswith("cuda"):
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        try:
            tok = AutoTokenizer.from_pretrained(where)
            model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype)
        except Exception as exc:
            raise ConfigError(f"model '{self.name}': cannot load '{self.source}': {first_line(exc)}") from None
        try:
            model.to(wanted)
        except Exception as exc:
            raise ConfigError(f"model '{self.name}': cannot use device '{wanted}': {first_line(exc)}") from None
        model.eval()
        self.tok, self.model, self.device, self._vocab = tok, model, wanted, False

    async def close(self) -> None:
        self.model = None

    def tokenizer(self) -> TokenCounter | None:
        return HFTokenizer(self.tok) if self.tok is not None else None

    def special_tokens(self) -> set[str] | None:
        return HFTokenizer(self.tok).special_tokens() if self.tok is not None else None

    def _vocabulary(self) -> Vocabulary | None:
        if self._vocab is False:
            assert self.tok is not None
            self._vocab = Vocabulary.of(self.tok)
        return self._vocab or None

    def heal_split(self, prefix: str) -> HealSplit | None:
        if self.tok is None or (vocab := self._vocabulary()) is None:
            return None
        split = split_for_healing(HFTokenizer(self.tok), prefix)
        return split if vocab.spells(split.removed) else None

    def _prompt_ids(self, request: EngineRequest) -> tuple[list[int], tuple[str, ...]]:
        tok = self.tok
        assert tok is not None
        extra_stops: tuple[str, ...] = ()
        if request.prompt is not None:
            text, templated = request.prompt, False
        elif tok.chat_template:
            dicts = [{"role": m.role, "content": m.content} for m in request.messages]
            text, templated = tok.apply_chat_template(dicts, tokenize=False, add_generation_prompt=True), True
        else:
            text, templated, extra_stops = plain_chat_prompt(request.messages), False, (PLAIN_CHAT_STOP,)
        bos = tok.bos_token
        add_special = not templated and not (bos and text.startswith(bos))
        ids = list(tok(text, add_special_tokens=add_special)["input_ids"])
        return ids, extra_stops

    def _eos_ids(self) -> list[int]:
        assert self.model is not None and self.tok is not None
        found: list[int] = []
        configured = self.model.generation_config.eos_token_id
        if configured is not None:
            found += configured if isinstance(configured, list) else [configured]
        if self.tok.eos_token_id is not None:
            found.append(self.tok.eos_token_id)
        return list(dict.fromkeys(found))

    def _check_length(self, prompt_len: int, params: GenerateParams) -> None:
        assert self.model is not None
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit is not None and prompt_len + 1 > limit:
            raise RequestInvalid(f"the prompt has {prompt_len} tokens; model '{self.name}' takes at most {limit - 1}",
                                 field="prompt")

    def _generate_one(self, ids: list[int], params: GenerateParams, index: int, stops: tuple[str, ...],
                      deadline: float | None, emit: Any, cancelled: threading.Event,
                      healing: HealingConstraint | None) -> DecodeOutcome:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList, set_seed

        assert self.model is not None and self.tok is not None
        limit = getattr(self.model.config, "max_position_embeddings", None)
        max_new = params.max_tokens if limit is None else max(1, min(params.max_tokens, limit - len(ids)))
        eos = self._eos_ids()
        decoder = ChoiceDecoder(HFTokenizer(self.tok), len(ids), stops, deadline, eos_ids=eos,
                                on_text=lambda text: emit(TextDelta(text=text, index=index)), cancelled=cancelled,
                                text_of=healing.text if healing is not None else None)
        kwargs: dict[str, Any] = {"do_sample": False}
        if params.temperature > 0:
            kwargs = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, "top_k": 0}
            if params.seed is not None:
                set_seed(params.seed + index)
        if healing is not None:
            kwargs["logits_processor"] = LogitsProcessorList([HealingLogitsProcessor(healing, len(ids))])
        if params.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = params.repetition_penalty
        inputs = torch.tensor([ids], device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=max_new,
                eos_token_id=eos or None, pad_token_id=self.tok.pad_token_id if self.tok.pad_token_id is not None
                else (eos[0] if eos else 0), stopping_criteria=StoppingCriteriaList([decoder]), **kwargs,
            )
        generated = out[0, len(ids):].tolist()
        return decoder.finish(generated)

    def _run(self, request: EngineRequest, emit: Any, cancelled: threading.Event) -> None:
        params = request.params
        ids, extra_stops = self._prompt_ids(request)
        self._check_length(len(ids), params)
        stops = tuple(params.stop) + extra_stops + ((self.tok.eos_token,) if self.tok and self.tok.eos_token else ())
        usage = Usage(prompt_tokens=len(ids))
        healing = None
        if request.healed:
            if (vocab := self._vocabulary()) is None:
                raise RequestInvalid(f"model '{self.name}' cannot heal tokens: its tokenizer is neither byte-level BPE "
                                     "nor SentencePiece with byte fallback", field="healed")
            healing = HealingConstraint(vocab, request.healed)
        with self._lock:
            budget = params.time_budget_s
            deadline = time.monotonic() + budget if budget is not None else None
            for index in range(params.n):
                if cancelled.is_set():
                    return
                outcome = self._generate_one(ids, params, index, stops, deadline, emit, cancelled, healing)
                usage.completion_tokens += outcome.completion_tokens
                last = index == params.n - 1
                emit(TextDelta(text=outcome.tail, index=index, finish_reason=outcome.finish_reason,
                               usage=usage if last else None))

    async def stream(self, request: EngineRequest) -> AsyncIterator[TextDelta]:
        await self.start()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[TextDelta | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()

        def put(item: TextDelta | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                self._run(request, put, cancelled)
                put(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the event loop, re-raised there
                put(exc)

        worker = threading.Thread(target=work, name=f"assay-local-{self.name}", daemon=True)
        worker.start()
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise _as_assay_error(item, self.name)
                if item.text or item.finish_reason is not None:
                    yield item
        finally:
            # The worker checks ``cancelled`` between tokens, so it stops within one decoding step.
            # Joining it keeps a torch call from running while the interpreter shuts down (which
            # aborts the process), at the cost of at most one step on the event loop.
            cancelled.set()
            worker.join(timeout=5.0)


def _as_assay_error(exc: BaseException, name: str) -> AssayError:
    if isinstance(exc, AssayError):
        return exc
    return ProviderError(f"model '{name}' failed while generating: {type(exc).__name__}: {first_line(exc)}"[:300])

