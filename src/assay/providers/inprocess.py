"""The machinery shared by the providers that decode in this process (``local``, ``ctranslate2``, ``llamacpp``).

:class:`InProcessProvider` does everything that does not depend on the engine:

* loads the model in a worker thread at :meth:`~InProcessProvider.start` (once; again after ``close``);
* runs one generation at a time per model (``_lock``, also held while the model is unloaded) in a worker
  thread that feeds text deltas to an asyncio queue; when the consumer stops early the worker is told
  (``cancelled``) and ends within one decoding step, and the stream waits for it;
* turns the ``EngineRequest`` into prompt ids: a ``prompt`` (raw or FIM-rendered) as given; chat
  ``messages`` through the model's chat template, else the plain layout
  ``System: ...\\n\\nUser: ...\\n\\nAssistant:`` with ``\\nUser:`` as an extra stop sequence;
  an empty prompt generates from the start of text (``_start_ids``: BOS, else the end-of-text token that
  separates documents), as OpenAI and vLLM do, instead of handing the engine no ids at all;
* keeps special tokens out of the text: the ids of the tokenizer's special tokens and of the spec's
  sentinels (FIM, repository tokens) are left out of what is decoded (``ChoiceJob.visible``), unless their
  text is one of the choice's stop sequences (then they end it, as before). A model that emits
  ``<fim_middle>`` in a chat answer would otherwise show it to the user;
* refuses prompts that leave no room in the context (``RequestInvalid``), caps ``max_tokens`` to the
  room left, adds the end-of-text token's text to the stops, starts the wall-time budget shared by the
  ``n`` choices (decoded one after another), sums usage, and maps any failure into an ``AssayError``;
* token healing (:mod:`assay.providers.healing`): :meth:`~InProcessProvider.heal_split` and the
  constraint for a request's ``healed`` text, when the engine offers a healing vocabulary.

An engine subclass implements only the hooks: ``_is_loaded``, ``_load``, ``_unload``, ``tokenizer``,
``_render_chat``, ``_encode_prompt``, ``_eos_text``, ``_eos_ids``, ``_context_length``, ``_vocabulary``
and ``_generate_one`` (one choice, streaming the text of :meth:`ChoiceJob.visible` ids through
:meth:`ChoiceJob.emit_text`); ``_start_ids`` when its tokenizer has a start-of-text token.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from assay.config import ModelConfig
from assay.errors import AssayError, ProviderError, RequestInvalid
from assay.providers.base import Provider
from assay.providers.healing import HealingConstraint, HealSplit, Vocabulary, split_for_healing
from assay.providers.hf_tokenizer import first_line
from assay.specs.schema import ModelSpec
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams, TextDelta, Usage

PLAIN_CHAT_STOP = "\nUser:"


def plain_chat_prompt(messages: tuple[ChatMessage, ...]) -> str:
    """The documented fallback chat layout for models without a chat template."""
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    turns = [f"{names[m.role]}: {m.content}" for m in messages]
    return "\n\n".join(turns) + "\n\nAssistant:"


def ended_by(stopped: bool, timed_out: bool) -> FinishReason:
    """A choice's finish reason: STOP at a stop sequence or end-of-text, else TIME past the deadline, else LENGTH."""
    if stopped:
        return FinishReason.STOP
    return FinishReason.TIME if timed_out else FinishReason.LENGTH


@dataclass(frozen=True)
class DecodeOutcome:
    text: str
    """The choice's whole text (cut before a stop sequence)."""
    tail: str
    """Text not yet streamed, to send with the finish reason."""
    finish_reason: FinishReason
    completion_tokens: int


@dataclass(frozen=True)
class ChoiceJob:
    """Everything an engine needs to decode choice ``index`` of a request."""

    ids: list[int]
    """The prompt's token ids."""
    params: GenerateParams
    index: int
    stops: tuple[str, ...]
    """The request's stop sequences, the chat layout's, and the end-of-text token's text."""
    max_new: int
    """``params.max_tokens`` capped to the room the context leaves after the prompt (at least 1)."""
    eos_ids: tuple[int, ...]
    deadline: float | None
    """``time.monotonic()`` value after which decoding ends with ``FinishReason.TIME``; None = no budget."""
    healing: HealingConstraint | None
    emit: Callable[[TextDelta], None]
    cancelled: threading.Event
    """Set when the consumer went away: stop after the current token."""
    hidden_ids: frozenset[int] = frozenset()
    """Special-token ids that are never part of the text (see :meth:`visible`)."""

    def emit_text(self, text: str) -> None:
        self.emit(TextDelta(text=text, index=self.index))

    def visible(self, generated: list[int]) -> list[int]:
        """The generated ids whose text the user may see: special tokens that are not stops left out."""
        hidden = self.hidden_ids
        return [i for i in generated if i not in hidden] if hidden else generated


class InProcessProvider(Provider):
    """See the module docstring; subclasses implement the abstract hooks below."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self._lock = threading.Lock()
        self._start_lock = asyncio.Lock()
        self._specials: dict[int, str] | None = None
        """Special-token id → text for the loaded model (built on first use, dropped at each load)."""

    def _start_ids(self) -> list[int]:
        """The ids an empty prompt generates from (BOS, else end-of-text); [] when the model has neither."""
        return []

    @abc.abstractmethod
    def _is_loaded(self) -> bool:
        """Whether the model is loaded and can generate."""

    @abc.abstractmethod
    def _load(self) -> None:
        """Load the model (runs in a worker thread); ``ConfigError`` naming the model when it cannot."""

    @abc.abstractmethod
    def _unload(self) -> None:
        """Drop the model; called holding ``_lock``, so no generation is running."""

    @abc.abstractmethod
    def _render_chat(self, messages: tuple[ChatMessage, ...]) -> str | None:
        """``messages`` through the model's chat template, ready to generate; None when it has none."""

    @abc.abstractmethod
    def _encode_prompt(self, text: str, templated: bool) -> list[int]:
        """The prompt's ids, special tokens parsed as such; ``templated`` when a chat template rendered it."""

    @abc.abstractmethod
    def _eos_text(self) -> str | None:
        """The end-of-text token's text, a stop sequence for prompts that spell it out."""

    @abc.abstractmethod
    def _eos_ids(self) -> list[int]:
        """The ids that end a choice; they are never part of its text."""

    @abc.abstractmethod
    def _context_length(self) -> int | None:
        """Tokens one sequence (prompt and answer) may hold; None when unknown."""

    @abc.abstractmethod
    def _vocabulary(self) -> Vocabulary | None:
        """Every token's bytes for token healing; None when this engine or tokenizer cannot heal."""

    @abc.abstractmethod
    def _generate_one(self, job: ChoiceJob) -> DecodeOutcome:
        """Decode one choice, streaming its safe text through ``job.emit_text`` and stopping at a stop
        sequence, an ``eos_ids`` token, ``max_new`` tokens, the deadline, or ``cancelled``."""

    async def start(self) -> None:
        async with self._start_lock:
            if not self._is_loaded():
                self._specials = None
                await asyncio.to_thread(self._load)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            self._unload()

    def heal_split(self, prefix: str) -> HealSplit | None:
        if (tokenizer := self.tokenizer()) is None or (vocab := self._vocabulary()) is None:
            return None
        split = split_for_healing(tokenizer, prefix)
        return split if vocab.spells(split.removed) else None

    def special_ids(self) -> dict[int, str]:
        """Id → text of every special token the tokenizer declares and every sentinel of the spec that is one
        token (a spec's FIM tokens may be plain added tokens); {} before the model is loaded."""
        if self._specials is None:
            if (tokenizer := self.tokenizer()) is None:
                return {}
            texts = (self.special_tokens() or set()) | set(self.spec.special_tokens())
            found: dict[int, str] = {}
            for text in sorted(texts):
                if len(ids := tokenizer.encode(text)) == 1:
                    found[ids[0]] = text
            self._specials = found
        return self._specials

    def _hidden_ids(self, stops: tuple[str, ...]) -> frozenset[int]:
        """The special-token ids a choice leaves out of its text: all but those spelling a stop sequence."""
        return frozenset(i for i, text in self.special_ids().items() if text not in stops)

    def _prompt_ids(self, request: EngineRequest) -> tuple[list[int], tuple[str, ...]]:
        """The prompt's ids and the extra stop sequences its layout needs."""
        if request.prompt is not None:
            ids = self._encode_prompt(request.prompt, templated=False) or self._start_ids()
            if not ids:
                raise RequestInvalid(f"the prompt is empty and model '{self.name}' has no start-of-text token "
                                     "to generate from", field="prompt")
            return ids, ()
        if (rendered := self._render_chat(request.messages)) is not None:
            return self._encode_prompt(rendered, templated=True), ()
        return self._encode_prompt(plain_chat_prompt(request.messages), templated=False), (PLAIN_CHAT_STOP,)

    def _healing(self, healed: str) -> HealingConstraint:
        if (vocab := self._vocabulary()) is None:
            raise RequestInvalid(f"model '{self.name}' cannot heal tokens: its tokenizer is neither byte-level BPE "
                                 "nor SentencePiece with byte fallback", field="healed")
        return HealingConstraint(vocab, healed)

    def _run(self, request: EngineRequest, emit: Callable[[TextDelta], None], cancelled: threading.Event) -> None:
        params = request.params
        with self._lock:
            if not self._is_loaded():
                raise ProviderError(f"model '{self.name}' is closed")
            ids, extra_stops = self._prompt_ids(request)
            limit = self._context_length()
            if limit is not None and len(ids) + 1 > limit:
                raise RequestInvalid(f"the prompt has {len(ids)} tokens; model '{self.name}' takes at most {limit - 1}",
                                     field="prompt")
            eos_text = self._eos_text()
            stops = tuple(params.stop) + extra_stops + ((eos_text,) if eos_text else ())
            healing = self._healing(request.healed) if request.healed else None
            max_new = params.max_tokens if limit is None else max(1, min(params.max_tokens, limit - len(ids)))
            eos_ids = tuple(self._eos_ids())
            hidden = self._hidden_ids(stops)
            usage = Usage(prompt_tokens=len(ids))
            budget = params.time_budget_s
            deadline = time.monotonic() + budget if budget is not None else None
            for index in range(params.n):
                if cancelled.is_set():
                    return
                job = ChoiceJob(ids, params, index, stops, max_new, eos_ids, deadline, healing, emit, cancelled,
                                hidden)
                outcome = self._generate_one(job)
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

        worker = threading.Thread(target=work, name=f"assay-{self.config.provider}-{self.name}", daemon=True)
        worker.start()
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise _as_assay_error(item, self.name)
                if item.text or item.finish_reason is not None:
                    yield item
        finally:
            # The worker checks ``cancelled`` between tokens, so it stops within one decoding step.
            # Joining it keeps an engine call from running while the interpreter shuts down (which
            # aborts the process), at the cost of at most one step on the event loop.
            cancelled.set()
            worker.join(timeout=5.0)


def _as_assay_error(exc: BaseException, name: str) -> AssayError:
    if isinstance(exc, AssayError):
        return exc
    return ProviderError(f"model '{name}' failed while generating: {type(exc).__name__}: {first_line(exc)}"[:300])
