"""``feature:<id>`` tasks: a prompt-registry feature scored on cases mined from real history.

Data: a JSONL of :class:`~assay.eval.mining.cases.FeatureCase` rows (``assay data mine-commits`` /
``mine-ci-logs``), given with ``--data``; rows for other features are skipped. Each case's inputs are
rendered through the feature's registry prompt (``-O family=small`` for small local models,
``-O prompt_version=~1.0``), the model answers as a chat model (generators call
:func:`pipeline_chat` / :func:`gateway_chat` for problems that carry ``chat_messages``), and the output is
scored against the human reference:

- ``rouge_l``: ROUGE-L F1 (``passed`` = ``rouge_l >= pass_threshold``, default 0.3);
- ``embedding_similarity``: cosine of all-MiniLM-L6-v2 embeddings, when ``assay[embeddings]`` is
  installed (otherwise left out, said once in ``describe()["embeddings"]``; ``-O embeddings=false``
  turns it off, ``-O embedding_model=DIR`` uses another BERT-style sentence model);
- ``judge`` / ``judge_parsed``: with ``-O judge=MODEL`` (a model in assay.yaml; ``-O config=PATH``),
  the fixed rubric of :mod:`assay.eval.mining.judge` as (N − 1) / 4, 0 when the reply has no score.

:func:`judge_agreement` gives the judge's Spearman correlation with each reference metric over a
run's samples (``assay data judge-agreement RUN``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assay.errors import AssayError, ProviderError, RequestInvalid
from assay.eval.mining.cases import read_cases
from assay.eval.mining.judge import Judge
from assay.eval.mining.scoring import EMBEDDING_MISSING, Agreement, load_embedder, rouge_l, spearman
from assay.eval.tasks.base import Problem, Score, Task
from assay.eval.tasks.registry import register
from assay.prompts import BASE_FAMILY, DEFAULT_CONSTRAINT, default_registry

REFERENCE_METRICS = ("rouge_l", "embedding_similarity")


class FeatureTask(Task):
    kind = "match"
    language = "text"

    def __init__(self, feature: str, path: str | Path | None = None, family: str = BASE_FAMILY,
                 prompt_version: str = DEFAULT_CONSTRAINT, judge: str | None = None, config: str | None = None,
                 embeddings: bool = True, pass_threshold: float = 0.3, embedding_model: str | None = None) -> None:
        if path is None:
            raise RequestInvalid(f"feature:{feature} needs --data FILE: a JSONL of cases from "
                                 "'assay data mine-commits' or 'assay data mine-ci-logs'")
        self.feature = feature
        self.name = f"feature:{feature}"
        self.path = Path(path)
        self.prompt = default_registry().resolve(feature, family, constraint=str(prompt_version))
        params = self.prompt.params()
        self.max_tokens = params.max_tokens
        self.stop = params.stop
        self.pass_threshold = float(pass_threshold)
        self.embedder = load_embedder(embedding_model) if embeddings else None
        self.embeddings_note = (str(embedding_model or "all-MiniLM-L6-v2") if self.embedder
                                else EMBEDDING_MISSING if embeddings else "off")
        self.judge: Judge | None = None
        if judge:
            from assay.config import load_settings

            self.judge = Judge(load_settings(config), judge)

    def problems(self) -> list[Problem]:
        out = []
        for case in read_cases(self.path):
            if case.feature != self.feature:
                continue
            rendered = self.prompt.render(case.inputs)
            out.append(Problem(
                task_id=case.id, prompt=rendered.transcript(), reference=case.reference, language="text",
                cluster=str(case.source.get("commit") or case.id),
                data={"feature": self.feature, "prefill": rendered.prefill,
                      "chat_messages": [[m.role, m.content] for m in rendered.messages],
                      "input": "\n".join(str(v) for v in case.inputs.values())}))
        if not out:
            raise RequestInvalid(f"{self.path} has no cases for feature '{self.feature}'")
        return out

    def postprocess(self, problem: Problem, completion: str) -> str:
        return completion.strip()

    def score(self, problem: Problem, completion: str) -> Score:
        rouge = rouge_l(completion, problem.reference)
        metrics = {"rouge_l": rouge.f1}
        details = []
        if self.embedder is not None:
            metrics["embedding_similarity"] = self.embedder.similarity(completion, problem.reference)
        if self.judge is not None:
            try:
                verdict = self.judge.grade(self.feature, str(problem.data.get("input", "")), problem.reference,
                                           completion)
                metrics["judge"] = verdict.normalized if verdict.normalized is not None else 0.0
                metrics["judge_parsed"] = float(verdict.score is not None)
                details.append(f"judge: {verdict.reply.strip()[-300:]}")
            except AssayError as exc:
                details.append(f"judge failed: {exc.message}")
        passed = rouge.f1 >= self.pass_threshold
        return Score(passed=passed, outcome="match" if passed else "mismatch", metrics=metrics,
                     detail="\n".join(details))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "feature": self.feature, "prompt": self.prompt.id,
                "prompt_version": str(self.prompt.version), "data": str(self.path),
                "data_sha256": hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path.is_file() else None,
                "pass_threshold": self.pass_threshold, "embeddings": self.embeddings_note,
                **(self.judge.describe() if self.judge else {})}


def _factory(feature: str):  # noqa: ANN202
    def make(path: str | None = None, family: str = BASE_FAMILY, prompt_version: str = DEFAULT_CONSTRAINT,
             judge: str | None = None, config: str | None = None, embeddings: bool = True,
             pass_threshold: float = 0.3, embedding_model: str | None = None) -> Task:
        return FeatureTask(feature, path, family, prompt_version, judge, config, embeddings, pass_threshold,
                           embedding_model)

    make.__doc__ = (f"Feature '{feature}' (prompt registry) on mined cases (--data JSONL): ROUGE-L, "
                    "embedding similarity, optional LLM judge")
    return make


for _feature in default_registry().features():
    register(f"feature:{_feature}")(_factory(_feature))


def _messages(problem: Problem) -> tuple:
    from assay.types import ChatMessage

    return tuple(ChatMessage(role, content) for role, content in problem.data["chat_messages"])


async def pipeline_chat(engine: Any, model: str, problem: Problem, params: Any) -> Any:
    """Generate a feature problem's answer with the in-process engine's chat path (prefill included)."""
    from assay.eval.generate import Generated, stream_timed
    from assay.pipeline.engine import ChatInput
    from assay.types import Generation

    inp = ChatInput(messages=_messages(problem), model=model, overrides=params.overrides())
    streamed = await stream_timed(engine.stream_chat(inp), model)
    final: Generation = streamed.final
    latency = streamed.latency_ms
    text = final.choices[0].text if final.choices else ""
    return Generated(text=problem.data.get("prefill", "") + text, latency_ms=latency,
                     ttft_ms=streamed.ttft_ms if streamed.ttft_ms is not None else latency,
                     prompt_tokens=final.usage.prompt_tokens, completion_tokens=final.usage.completion_tokens)


async def gateway_chat(client: Any, url: str, model: str, problem: Problem, params: Any) -> Any:
    """Generate a feature problem's answer through a running gateway's ``/v1/chat/completions``."""
    from assay.eval.generate import Generated

    body: dict[str, Any] = {"messages": [{"role": r, "content": c} for r, c in problem.data["chat_messages"]],
                            "max_tokens": params.max_tokens, "temperature": params.temperature,
                            "top_p": params.top_p}
    if model:
        body["model"] = model
    if params.stop:
        body["stop"] = list(params.stop)
    start = time.perf_counter()
    resp = await client.post("/v1/chat/completions", json=body)
    latency = (time.perf_counter() - start) * 1000
    if resp.status_code != 200:
        raise ProviderError(f"gateway {url}/v1/chat/completions answered {resp.status_code}: {resp.text[:300]}")
    data = resp.json()
    usage = data.get("usage") or {}
    text = data["choices"][0]["message"]["content"] if data.get("choices") else ""
    return Generated(text=problem.data.get("prefill", "") + (text or ""), latency_ms=latency, ttft_ms=latency,
                     prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"))


def judge_agreement(samples: Sequence[Any]) -> list[Agreement]:
    """Spearman correlation of the ``judge`` metric with each reference metric, over samples that have both."""
    out = []
    for metric in REFERENCE_METRICS:
        pairs = [(s.metrics["judge"], s.metrics[metric]) for s in samples
                 if "judge" in (s.metrics or {}) and metric in s.metrics]
        if pairs:
            out.append(spearman(metric, [p[0] for p in pairs], [p[1] for p in pairs]))
    return out
