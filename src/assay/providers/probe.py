"""``assay models probe``: does a configured backend really fill in the middle?

Two known Python FIM cases are rendered with the model's spec (:func:`assay.specs.render.render_fim`,
or the FIM-as-chat messages for ``fim.mode: chat``) and decoded greedily, one line at most:

* ``add``:     ``def add(a, b):\\n    return `` ▮ ``\\n\\nprint(add(1, 2))\\n``
* ``connect``: ``ordered = sorted(`` ▮ ``, reverse=True)`` — the middle must stop where the suffix
  takes over (a model that ignores the suffix closes the call itself, which breaks the code).

Each answer is checked: non-empty; not a repeat of the suffix; no FIM/control token of the spec
leaked into it; and ``prefix + answer + suffix`` compiles as Python (consistent with the suffix).
FIM tokens are deliberately not stop sequences here, so a leak is visible in the raw output.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from assay.errors import AssayError
from assay.providers.base import Provider
from assay.providers.fim_chat import extract_fim_answer, fim_chat_messages
from assay.specs.render import render_fim
from assay.types import EngineRequest, GenerateParams


@dataclass(frozen=True)
class FimCase:
    name: str
    prefix: str
    suffix: str


CASES = (
    FimCase("add", "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"),
    FimCase("connect", "values = [3, 1, 2]\nordered = sorted(", ", reverse=True)\nprint(ordered)\n"),
)


@dataclass(frozen=True)
class ProbeCase:
    name: str
    prompt: str
    """The rendered FIM prompt (for chat models: the user message)."""
    raw_output: str
    answer: str
    """The middle read from the raw output (chat: the extracted answer)."""
    ms: float
    finish_reason: str | None
    checks: dict[str, bool]
    """``non_empty``, ``not_suffix``, ``no_leaked_tokens``, ``consistent_with_suffix``."""
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(self.checks.values())


@dataclass(frozen=True)
class ProbeResult:
    model: str
    provider: str
    family: str
    mode: str
    cases: tuple[ProbeCase, ...]
    fills_middle: bool
    verdict: str
    """One line for humans, e.g. ``fills the middle (2/2 cases)``."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for case, raw in zip(self.cases, data["cases"], strict=True):
            raw["passed"] = case.passed
        return data


def _compiles(code: str) -> bool:
    try:
        compile(code, "<probe>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def check_answer(case: FimCase, answer: str, leak_tokens: list[str]) -> dict[str, bool]:
    """The four probe checks for one answer."""
    stripped = answer.strip()
    return {
        "non_empty": bool(stripped),
        "not_suffix": not stripped or not case.suffix.strip().startswith(stripped),
        "no_leaked_tokens": not any(t and t.strip() in answer for t in leak_tokens),
        "consistent_with_suffix": "\n" not in answer.strip("\n") and _compiles(case.prefix + answer + case.suffix),
    }


async def _run_case(provider: Provider, case: FimCase) -> ProbeCase:
    spec = provider.spec
    chat = spec.fim.mode == "chat"
    base = GenerateParams(max_tokens=64 if chat else 24, temperature=0.0, time_budget_s=provider.config.timeout_s,
                          stop=() if chat else ("\n",))
    if chat:
        messages = fim_chat_messages(case.prefix, case.suffix, "Python", "probe.py")
        request, prompt = EngineRequest(params=base, messages=messages), messages[-1].content
    else:
        prompt = render_fim(spec, case.prefix, case.suffix)
        request = EngineRequest(params=base, prompt=prompt)
    start = time.perf_counter()
    try:
        gen = await provider.generate(request)
    except AssayError as exc:
        ms = (time.perf_counter() - start) * 1000
        return ProbeCase(case.name, prompt, "", "", ms, None, {}, error=exc.message)
    ms = (time.perf_counter() - start) * 1000
    choice = gen.choices[0] if gen.choices else None
    raw = choice.text if choice else ""
    answer = extract_fim_answer(raw) if chat else raw
    leaks = spec.special_tokens() + ([spec.eos] if spec.eos else [])
    return ProbeCase(case.name, prompt, raw, answer, round(ms, 1), choice.finish_reason.value if choice else None,
                     check_answer(case, answer, leaks))


async def probe(provider: Provider) -> ProbeResult:
    """Run the FIM cases against ``provider`` (started here if needed) and judge the answers."""
    await provider.start()
    cases = tuple([await _run_case(provider, case) for case in CASES])
    passed = sum(c.passed for c in cases)
    errors = [f"{c.name}: {c.error}" for c in cases if c.error]
    if errors:
        verdict = f"could not probe: {errors[0]}"
    elif passed == len(cases):
        verdict = f"fills the middle ({passed}/{len(cases)} cases)"
    else:
        failed = [f"{c.name}: {', '.join(k for k, ok in c.checks.items() if not ok)}" for c in cases if not c.passed]
        verdict = f"does not fill the middle ({passed}/{len(cases)} cases; failed {'; '.join(failed)})"
    spec = provider.spec
    return ProbeResult(provider.name, provider.config.provider, spec.family, spec.fim.mode, cases,
                       fills_middle=passed == len(cases) and not errors, verdict=verdict)
