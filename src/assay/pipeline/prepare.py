"""The stages before decoding: language → context → budget → FIM prompt, recorded in the trace.

With ``token_healing`` on, a FIM prompt's prefix loses its last token (``Provider.heal_split``) and the
request carries the removed text as ``healed`` for the provider to re-grow; raw and chat prompts are
never healed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assay.config import Settings
from assay.languages import Language
from assay.pipeline.budget import MARGIN_TOKENS, TokenMeter, fit_prefix_suffix, plan_budget, window_tokens
from assay.pipeline.context import Snippet, select_context
from assay.pipeline.fim import Prompt, build_prompt, context_text, template_overhead
from assay.pipeline.language import language_of
from assay.pipeline.params import build_params
from assay.pipeline.postprocess import PostContext, context_for
from assay.pipeline.trace import timed
from assay.pipeline.types import CompletionInput, Trace
from assay.providers.base import Provider
from assay.types import EngineRequest


@dataclass(frozen=True)
class PreparedCompletion:
    """Everything decoding and post-processing need for one completion request."""

    request: EngineRequest
    language: Language | None
    meter: TokenMeter
    post: PostContext | None
    """None when post-processing is off for this request."""
    chat_answer: bool
    """True when the model answers FIM-as-chat and its reply must go through ``extract_fim_answer``."""


def prepare_completion(inp: CompletionInput, provider: Provider, settings: Settings,
                       trace: Trace) -> PreparedCompletion:
    """Run the stages up to the provider request; raises ``RequestInvalid`` for bad overrides."""
    spec = provider.spec
    with timed(trace, "language"):
        language = language_of(inp)
    trace.language = language.id if language else None
    params = build_params(inp.overrides, provider.config, spec)
    pipe = inp.pipeline or settings.pipeline
    meter = TokenMeter(provider.tokenizer())
    healed = ""

    if inp.raw_prompt is not None:
        prompt = Prompt(text=inp.raw_prompt)
        trace.budget = {"counted_with": meter.kind, "raw_prompt": True}
    else:
        with timed(trace, "context"):
            plan = plan_budget(spec, params.max_tokens, meter.count(template_overhead(spec)))
            if pipe.context_share is not None:
                plan = replace(plan, context=int(plan.total * pipe.context_share))
            snippets: list[Snippet] = []
            if pipe.context and inp.context and plan.context > 0:
                snippets = select_context(
                    inp.context, inp.prefix, token_budget=plan.context, count_tokens=meter.count,
                    window_lines=pipe.context_window_lines,
                    max_snippets=pipe.max_context_snippets, exclude=inp.file_name)
            context_tokens = meter.count(context_text(spec, snippets, language, inp.file_name))
        trace.context = [s.trace_entry() for s in snippets]
        with timed(trace, "budget"):
            fitted = fit_prefix_suffix(inp.prefix, inp.suffix, plan, meter, context_tokens)
        with timed(trace, "fim"):
            prompt = build_prompt(spec, fitted.prefix, fitted.suffix, language=language,
                                  file_name=inp.file_name, snippets=snippets)
            over = meter.count(prompt.shown()) - window_tokens(spec, params.max_tokens)
            if over > 0 and prompt.text is not None:
                plan = replace(plan, total=plan.total - over - MARGIN_TOKENS)
                fitted = fit_prefix_suffix(inp.prefix, inp.suffix, plan, meter, context_tokens)
                prompt = build_prompt(spec, fitted.prefix, fitted.suffix, language=language,
                                      file_name=inp.file_name, snippets=snippets)
            split = provider.heal_split(fitted.prefix) if params.token_healing and prompt.text is not None else None
            if split is not None and split.removed:
                prompt = build_prompt(spec, split.kept, fitted.suffix, language=language,
                                      file_name=inp.file_name, snippets=snippets)
                healed = trace.healing["removed"] = split.removed
                trace.healing["removed_chars"] = len(split.removed)
        trace.budget = {
            "counted_with": meter.kind, "total": plan.total, "suffix": plan.suffix, "context": plan.context,
            "prefix_tokens": fitted.prefix_tokens, "suffix_tokens": fitted.suffix_tokens,
            "context_tokens": context_tokens, "prefix_truncated": len(fitted.prefix) < len(inp.prefix),
            "suffix_truncated": len(fitted.suffix) < len(inp.suffix),
        }
    trace.prompt = prompt.shown()
    trace.prompt_tokens = meter.count(trace.prompt)

    post = None
    if inp.postprocess and pipe.postprocess:
        post = context_for(inp.prefix, inp.suffix, language)
        trace.mode = post.mode
    chat_answer = spec.fim.mode == "chat" and inp.raw_prompt is None
    return PreparedCompletion(replace(prompt.request(params), healed=healed), language, meter, post, chat_answer)
