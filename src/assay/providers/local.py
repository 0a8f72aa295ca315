"""The ``local`` provider: a transformers causal LM in this process (CPU here, CUDA when present).

``path`` is a Hugging Face id, a local model directory, or ``builtin:assay-nano`` (the weights shipped
in ``assay/weights/assay-nano``). Threads, locking, streaming, prompts, stops and healing requests are
:class:`~assay.providers.inprocess.InProcessProvider`'s; this module loads the model and decodes a choice:

* greedy when ``temperature == 0``, else sampling with ``temperature`` / ``top_p`` (``seed`` makes
  it repeatable; choice ``i`` of ``n`` uses ``seed + i``);
* stops at ``max_tokens``, at the end-of-text token, as soon as the text contains a stop sequence
  (cut before it), or when ``time_budget_s`` (counted from the start of decoding, shared by the ``n`` choices) runs out
  (``FinishReason.TIME``);
* the prompt is tokenized as given, special tokens parsed as such; BOS is added only when the
  tokenizer's own configuration adds one and the prompt does not already start with it;
* only complete UTF-8 text is streamed (see :mod:`assay.providers.stops`);
* token healing (:mod:`assay.providers.healing`): a request with ``healed`` text has its first tokens
  constrained to reproduce it (streamed and returned without it). Tokenizers that are neither byte-level
  BPE nor SentencePiece with byte fallback do not heal.

Chat requests are rendered with the tokenizer's chat template when it has one, else in the plain layout
(:func:`~assay.providers.inprocess.plain_chat_prompt`).

``options:`` ``threads`` — CPU threads torch uses for this model's generations (see :class:`LocalOptions`).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from assay.config import BUILTIN_PREFIX, ModelConfig
from assay.errors import ConfigError
from assay.providers.base import TokenCounter
from assay.providers.healing import HealingLogitsProcessor, Vocabulary
from assay.providers.hf_tokenizer import HFTokenizer, first_line, missing_directory
from assay.providers.inprocess import ChoiceJob, DecodeOutcome, InProcessProvider
from assay.providers.local_decode import ChoiceDecoder
from assay.providers.options import ProviderOptions, parse_options
from assay.specs.schema import ModelSpec
from assay.types import ChatMessage

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def resolve_model_path(path: str) -> str:
    """``builtin:NAME`` → the packaged weights directory (``ConfigError`` when absent); anything else as given."""
    if not path.startswith(BUILTIN_PREFIX):
        return path
    name = path[len(BUILTIN_PREFIX):]
    directory = Path(str(resources.files("assay") / "weights" / name))
    if not (directory / "config.json").is_file():
        raise ConfigError(f"built-in model '{name}' has no weights at {directory}; build them with `assay train nano`")
    return str(directory)


@lru_cache(maxsize=1)
def torch_default_threads() -> int:
    """The thread count torch chose for this process (read once, at the first load, before any model set one)."""
    import torch

    return torch.get_num_threads()


THREADS_DEFAULT = 1
"""See :attr:`LocalOptions.threads`."""


class LocalOptions(ProviderOptions):
    """The model entry's ``options:`` for the ``local`` provider."""

    threads: int = Field(THREADS_DEFAULT, ge=0)
    """CPU threads torch uses while decoding this model; 0 = torch's own choice (one per core).

    torch's thread count is a process-wide default plus a per-thread OpenMP setting, so the provider sets
    it in the worker thread that runs each generation (:meth:`LocalProvider._generate_one`): every model
    decodes with its own count, and other models in the process are not changed under it.

    Default 1, by measurement on assay-nano (CPU): on the 2-core target machine a decode took 0.18 s with
    torch's default (2 threads) when idle and 0.29-1.04 s with one core busy, against 0.12 s idle and
    0.12-0.17 s busy with 1 thread (``OMP_NUM_THREADS=1``); with 2, identical temperature-0 requests came
    back cut at different lengths by the spec's 1.5 s time budget whenever another process held a core.
    ``python bench/decode_speed.py --requests 30 --threads 1`` against ``--threads 0`` on a shared 2-core
    machine, three runs each (``bench/results/decode_speed_threads.json``): median 219/144/78 ms against
    199/199/100 ms, p95 656/507/177 ms against 538/593/219 ms (the machine was never idle). A small model
    does too little work per token to gain from a second thread and loses much waiting for a busy one.
    Set 0 (or a count) for models large enough to use the cores, on a machine that has them free."""


def merge_eos_ids(configured: int | list[int] | None, tok: PreTrainedTokenizerBase) -> list[int]:
    """The end ids a generation config names, then the tokenizer's end-of-text id, without repeats."""
    found = [] if configured is None else configured if isinstance(configured, list) else [configured]
    found += [tok.eos_token_id] if tok.eos_token_id is not None else []
    return list(dict.fromkeys(found))


class HFTokenizerProvider(InProcessProvider):
    """The hooks shared by in-process engines that tokenize with a Hugging Face tokenizer (``self.tok``, set
    by ``_load``): chat template or plain layout, BOS only when the tokenizer adds one and the prompt (not
    chat-templated) does not start with it, healing vocabulary from the tokenizer."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.tok: PreTrainedTokenizerBase | None = None
        self._vocab: Vocabulary | None | bool = False
        """The tokenizer's healing vocabulary; False = not built yet, None = this tokenizer cannot heal."""

    @property
    def source(self) -> str:
        return self.config.path or self.config.upstream_model

    def _resolved_source(self) -> str:
        """``source`` with ``builtin:`` resolved; ``ConfigError`` when it names a directory that is not there."""
        if missing_directory(self.source):
            raise ConfigError(f"model '{self.name}': model directory '{self.source}' does not exist")
        return resolve_model_path(self.source)

    def tokenizer(self) -> TokenCounter | None:
        return HFTokenizer(self.tok) if self.tok is not None else None

    def special_tokens(self) -> set[str] | None:
        return HFTokenizer(self.tok).special_tokens() if self.tok is not None else None

    def _vocabulary(self) -> Vocabulary | None:
        if self._vocab is False:
            assert self.tok is not None
            self._vocab = Vocabulary.of(self.tok)
        return self._vocab or None

    def _render_chat(self, messages: tuple[ChatMessage, ...]) -> str | None:
        assert self.tok is not None
        if not self.tok.chat_template:
            return None
        dicts = [{"role": m.role, "content": m.content} for m in messages]
        return self.tok.apply_chat_template(dicts, tokenize=False, add_generation_prompt=True)

    def _encode_prompt(self, text: str, templated: bool) -> list[int]:
        assert self.tok is not None
        bos = self.tok.bos_token
        add_special = not templated and not (bos and text.startswith(bos))
        return list(self.tok(text, add_special_tokens=add_special)["input_ids"])

    def _eos_text(self) -> str | None:
        return self.tok.eos_token if self.tok is not None else None

    def _start_ids(self) -> list[int]:
        """BOS, else end-of-text (GPT-2-style tokenizers, assay-nano's included, separate documents with it)."""
        assert self.tok is not None
        start = self.tok.bos_token_id if self.tok.bos_token_id is not None else self.tok.eos_token_id
        return [start] if start is not None else []


class LocalProvider(HFTokenizerProvider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.options = parse_options(config, LocalOptions)
        self.model: PreTrainedModel | None = None
        self.device = "cpu"

    def _is_loaded(self) -> bool:
        return self.model is not None

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        torch_default_threads()
        where = self._resolved_source()
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

    def _unload(self) -> None:
        self.model = None

    def _eos_ids(self) -> list[int]:
        assert self.model is not None and self.tok is not None
        return merge_eos_ids(self.model.generation_config.eos_token_id, self.tok)

    def _context_length(self) -> int | None:
        assert self.model is not None
        return getattr(self.model.config, "max_position_embeddings", None)

    def _generate_one(self, job: ChoiceJob) -> DecodeOutcome:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList, set_seed

        assert self.model is not None and self.tok is not None
        params, ids, eos = job.params, job.ids, list(job.eos_ids)
        decoder = ChoiceDecoder(HFTokenizer(self.tok), len(ids), job.stops, job.deadline, eos_ids=eos,
                                on_text=job.emit_text, cancelled=job.cancelled,
                                text_of=job.healing.text if job.healing is not None else None,
                                hidden_ids=job.hidden_ids)
        torch.set_num_threads(self.options.threads or torch_default_threads())
        kwargs: dict[str, Any] = {"do_sample": False}
        if params.temperature > 0:
            kwargs = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, "top_k": 0}
            if params.seed is not None:
                set_seed(params.seed + job.index)
        if job.healing is not None:
            kwargs["logits_processor"] = LogitsProcessorList([HealingLogitsProcessor(job.healing, len(ids))])
        if params.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = params.repetition_penalty
        inputs = torch.tensor([ids], device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=job.max_new,
                eos_token_id=eos or None, pad_token_id=self.tok.pad_token_id if self.tok.pad_token_id is not None
                else (eos[0] if eos else 0), stopping_criteria=StoppingCriteriaList([decoder]), **kwargs,
            )
        generated = out[0, len(ids):].tolist()
        return decoder.finish(generated)
