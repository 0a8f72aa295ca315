"""LLM-as-judge: a model the user names grades each output against the reference with a fixed rubric.

The rubric is fixed (a versioned constant, stored with each run through the task's ``describe()``), the
judge decodes greedily, and its reply must contain ``Score: N`` with N in 1..5; the score is reported
as (N − 1) / 4 so it shares the 0..1 scale of the reference metrics. :attr:`Verdict.score` is None
for a reply without a score; the feature task then records 0 and ``judge_parsed`` = 0, so a judge
that ignores the format shows up in the report.

The judge is a configured model run in-process by assay's own engine, on a private event loop in a
background thread, so the runner's worker threads can call :meth:`Judge.grade` synchronously.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from assay.errors import ProviderTimeout

RUBRIC_VERSION = "1"
RUBRIC = """\
You are grading the output of an AI feature ("{feature}") against a reference written by a human.
Judge meaning, not wording: the output is good when it conveys the same facts and intent as the
reference, is correct with respect to the input, and adds nothing false.

Score on this scale:
5 - same meaning as the reference; nothing important missing or wrong
4 - mostly the same; a minor detail missing or slightly off
3 - partly right; an important point missing, or some wrong content
2 - related to the input but mostly different from the reference or misleading
1 - wrong, empty, or unrelated

Answer with one sentence of justification, then a last line exactly of the form "Score: N"."""

USER = """\
<input>
{input}
</input>

<reference>
{reference}
</reference>

<output>
{output}
</output>"""

_SCORE = re.compile(r"score\s*[:=]\s*\**\s*([1-5])\b", re.IGNORECASE)
MAX_INPUT_CHARS = 6000
T = TypeVar("T")


@dataclass(frozen=True)
class Verdict:
    score: int | None
    """1..5, or None when the reply had no ``Score: N``."""
    reply: str

    @property
    def normalized(self) -> float | None:
        return None if self.score is None else (self.score - 1) / 4


def parse_score(reply: str) -> int | None:
    """The last ``Score: N`` (N in 1..5) in the judge's reply, or None."""
    found = _SCORE.findall(reply)
    return int(found[-1]) if found else None


def judge_messages(feature: str, input_text: str, reference: str, output: str) -> list[tuple[str, str]]:
    clipped = input_text if len(input_text) <= MAX_INPUT_CHARS else input_text[:MAX_INPUT_CHARS] + "\n[...]"
    return [("system", RUBRIC.format(feature=feature)),
            ("user", USER.format(input=clipped, reference=reference, output=output))]


async def _shutdown(engine: Any) -> None:
    """Cancel calls still running (e.g. after a timeout), then close the engine."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    await engine.close()


class Judge:
    """Grades outputs with configured model ``model`` (from ``settings``, an ``assay.config.Settings``)."""

    def __init__(self, settings: Any, model: str, timeout_s: float = 120.0, max_tokens: int = 256) -> None:
        self.model = settings.model(model).name
        self.settings = settings
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: Any = None
        self._lock = threading.Lock()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                from assay.pipeline.engine import Engine

                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="assay-judge", daemon=True).start()
                self._loop, self._engine = loop, Engine(self.settings)
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ProviderTimeout(f"judge model '{self.model}' gave no verdict within {self.timeout_s:g} s") from None

    def grade(self, feature: str, input_text: str, reference: str, output: str) -> Verdict:
        """One verdict; raises the engine's ``AssayError`` when the judge model fails."""
        from assay.pipeline.engine import ChatInput
        from assay.pipeline.types import RequestOverrides
        from assay.types import ChatMessage

        messages = tuple(ChatMessage(role, text) for role, text in  # type: ignore[arg-type]
                         judge_messages(feature, input_text, reference, output))
        inp = ChatInput(messages=messages, model=self.model,
                        overrides=RequestOverrides(max_tokens=self.max_tokens, temperature=0.0))
        if self._engine is None:
            self._run(asyncio.sleep(0))
        gen = self._run(self._engine.chat(inp))
        reply = gen.choices[0].text if gen.choices else ""
        return Verdict(parse_score(reply), reply)

    def close(self) -> None:
        with self._lock:
            loop, engine, self._loop, self._engine = self._loop, self._engine, None, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(_shutdown(engine), loop).result(self.timeout_s)
        loop.call_soon_threadsafe(loop.stop)

    def describe(self) -> dict[str, str]:
        return {"judge": self.model, "rubric_version": RUBRIC_VERSION}
