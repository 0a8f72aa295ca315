"""The ``ctranslate2`` provider: the models ``local`` serves, converted once to CTranslate2 and decoded by it.

Same ``path`` values as ``local`` (a Hugging Face id, a model directory, ``builtin:assay-nano``) and the same
request handling (prompt tokenization, chat layout, stops, ``max_tokens``, the wall-time budget shared by
the ``n`` choices, end-of-text, usage, cancellation between tokens): both are
:class:`~assay.providers.local.HFTokenizerProvider` subclasses, this one loading and decoding with ctranslate2.
Greedy decoding gives the same token ids as ``local`` (float32) when ``repetition_penalty`` is 1.

* Conversion: ``ctranslate2.converters.TransformersConverter`` writes the model to
  ``<cache>/<sha256 of the model directory's files and the ctranslate2 version>``; a later start reuses
  it. The cache is ``options.cache_dir``, else ``$ASSAY_CT2_CACHE``, else ``~/.cache/assay/ct2``.
* ``options:`` ``compute_type`` (``float32`` by default; ``int8`` quantizes the weights when loading),
  ``threads`` (CPU threads per generation, default 1; 0 = ctranslate2's default), ``penalize_prompt`` (see below).
* ``device: auto`` uses CUDA when ctranslate2 sees a GPU, else the CPU.
* Repetition penalty: ctranslate2 penalizes the tokens it generated, transformers (``local``) also the
  prompt's. ``penalize_prompt: true`` feeds the prompt through the decoding loop one token per step so the
  prompt is penalized too (same ids as ``local``), which is slower for long prompts.
* Sampling (``temperature > 0``: ``top_p``, no top-k cut, like ``local``) does not repeat by ``seed``:
  ctranslate2 seeds each worker thread's random generator once and offers no per-request seed.
* Token healing is not offered (``heal_split`` returns None): ctranslate2 has no hook to constrain the
  first generated tokens to a set of ids.

Requires the ``fast`` extra (``pip install 'assay[fast]'``); without it, start raises ``ConfigError``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from assay.config import ModelConfig
from assay.errors import ConfigError
from assay.providers.healing import Vocabulary
from assay.providers.hf_tokenizer import HFTokenizer, first_line
from assay.providers.inprocess import ChoiceJob, DecodeOutcome, ended_by
from assay.providers.local import HFTokenizerProvider, merge_eos_ids
from assay.providers.options import ProviderOptions, parse_options
from assay.providers.stops import StopScanner
from assay.specs.schema import ModelSpec

DEFAULT_CACHE = Path("~/.cache/assay/ct2")
CACHE_ENV = "ASSAY_CT2_CACHE"


class CTranslate2Options(ProviderOptions):
    """The model entry's ``options:`` (see the module docstring)."""

    compute_type: Literal["float32", "int8", "int8_float32", "int16", "float16", "bfloat16", "int8_float16",
                          "int8_bfloat16", "auto"] = "float32"
    threads: int = Field(1, ge=0)
    """``intra_threads`` of the generator: CPU threads per generation; 0 = ctranslate2's own default.

    Default 1, as for ``local`` (see ``assay.providers.local.LocalOptions``), by measurement on assay-nano:
    ``python bench/decode_speed.py --requests 30 --threads 1`` against ``--threads 0`` on a shared 2-core
    machine, three runs each (``bench/results/decode_speed_threads.json``): median 78/40/31 ms against
    62/59/48 ms, and 311/221/137 ms against 422/352/258 ms with ``penalize_prompt``. Set 0 (or a count)
    for large models on a machine with free cores."""
    cache_dir: str | None = None
    penalize_prompt: bool = False


def cache_root(options: CTranslate2Options) -> Path:
    """Where converted models live: ``options.cache_dir``, else ``$ASSAY_CT2_CACHE``, else ``~/.cache/assay/ct2``."""
    return Path(options.cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def model_key(directory: Path) -> str:
    """sha256 over the names and bytes of the model directory's files (weights, config, tokenizer) and the
    ctranslate2 version, so a changed model or converter gets a fresh conversion."""
    import ctranslate2

    digest = hashlib.sha256(f"ctranslate2 {ctranslate2.__version__}\n".encode())
    for file in sorted(p for p in directory.iterdir() if p.is_file()):
        digest.update(f"{file.name}\n".encode())
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:32]


def convert_cached(directory: Path, root: Path, model_name: str) -> Path:
    """The CTranslate2 conversion of the Hugging Face model in ``directory``, converted on first use into
    ``root / model_key(directory)`` (written to a temporary directory, then renamed); ``ConfigError`` naming
    the model when it cannot be converted."""
    from ctranslate2.converters import TransformersConverter

    target = root / model_key(directory)
    if (target / "model.bin").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".converting-", dir=root))
    try:
        try:
            TransformersConverter(str(directory)).convert(str(scratch / "model"), force=True)
        except Exception as exc:
            raise ConfigError(f"model '{model_name}': ctranslate2 cannot convert '{directory}': {first_line(exc)}") from None
        try:
            os.replace(scratch / "model", target)
        except OSError as exc:
            if not (target / "model.bin").is_file():
                raise ConfigError(f"model '{model_name}': cannot write the converted model to {target}: "
                                  f"{first_line(exc)}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _local_directory(where: str, model_name: str) -> Path:
    """The directory of model ``where``: itself when it is one, else the Hugging Face id's snapshot (hub cache or download)."""
    if Path(where).expanduser().is_dir():
        return Path(where).expanduser()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(where))
    except Exception as exc:
        raise ConfigError(f"model '{model_name}': cannot find '{where}' locally or on the Hugging Face Hub: "
                          f"{first_line(exc)}") from None


class CTranslate2Provider(HFTokenizerProvider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.options = parse_options(config, CTranslate2Options)
        self.generator: Any = None
        self.device = "cpu"
        self.model_dir: Path | None = None
        """The converted model's directory, once started."""
        self._eos: list[int] = []
        self._context: int | None = None

    def _is_loaded(self) -> bool:
        return self.generator is not None

    def _load(self) -> None:
        try:
            import ctranslate2
        except ImportError:
            raise ConfigError(f"model '{self.name}': provider ctranslate2 needs the 'fast' extra: "
                              "pip install 'assay[fast]'") from None
        from transformers import AutoConfig, AutoTokenizer, GenerationConfig

        directory = _local_directory(self._resolved_source(), self.name)
        try:
            tok = AutoTokenizer.from_pretrained(directory)
            hf_config = AutoConfig.from_pretrained(directory)
        except Exception as exc:
            raise ConfigError(f"model '{self.name}': cannot load '{self.source}': {first_line(exc)}") from None
        try:
            eos = GenerationConfig.from_pretrained(directory).eos_token_id
        except OSError:
            eos = hf_config.eos_token_id
        converted = convert_cached(directory, cache_root(self.options), self.name)
        device = self.config.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        kind, _, index = device.partition(":")
        try:
            generator = ctranslate2.Generator(str(converted), device=kind, device_index=int(index or 0),
                                              compute_type=self.options.compute_type,
                                              intra_threads=self.options.threads)
        except Exception as exc:
            raise ConfigError(f"model '{self.name}': ctranslate2 cannot load it on '{device}' as "
                              f"{self.options.compute_type}: {first_line(exc)}") from None
        self._eos = merge_eos_ids(eos, tok)
        self._context = getattr(hf_config, "max_position_embeddings", None)
        self.tok, self.device, self.model_dir, self.generator = tok, device, converted, generator

    def _unload(self) -> None:
        self.generator = None

    def _vocabulary(self) -> Vocabulary | None:
        return None

    def _eos_ids(self) -> list[int]:
        return self._eos

    def _context_length(self) -> int | None:
        return self._context

    def _generate_one(self, job: ChoiceJob) -> DecodeOutcome:
        assert self.tok is not None and self.generator is not None and job.healing is None
        params = job.params
        tokenizer = HFTokenizer(self.tok)
        scanner = StopScanner(job.stops)
        eos = set(job.eos_ids)
        generated: list[int] = []
        state = {"eos": False, "time": False}
        skip = len(job.ids) - 1 if self.options.penalize_prompt else 0

        def on_step(step: Any) -> bool:
            if step.step < skip:
                return job.cancelled.is_set()
            if step.token_id in eos:
                state["eos"] = True
                return True
            generated.append(step.token_id)
            if delta := scanner.update(tokenizer.decode(job.visible(generated))):
                job.emit_text(delta)
            if job.deadline is not None and time.monotonic() >= job.deadline and not scanner.stopped:
                state["time"] = True
            return scanner.stopped or state["time"] or job.cancelled.is_set()

        sampling: dict[str, Any] = {"sampling_topk": 1}
        if params.temperature > 0:
            sampling = {"sampling_topk": 0, "sampling_topp": params.top_p, "sampling_temperature": params.temperature}
        self.generator.generate_batch(
            [self.tok.convert_ids_to_tokens(job.ids)], max_length=skip + job.max_new, end_token=list(eos) or None,
            repetition_penalty=params.repetition_penalty, include_prompt_in_result=self.options.penalize_prompt,
            callback=on_step, **sampling,
        )
        reason = ended_by(scanner.stopped or state["eos"], state["time"])
        return DecodeOutcome(scanner.text, scanner.finish(), reason, len(generated) + state["eos"])
