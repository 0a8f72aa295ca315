"""An arm's pipeline settings reach the pipeline: per-request ``CompletionInput.pipeline`` replaces
``settings.pipeline`` in the stages before decoding (echo provider, no model weights)."""

from __future__ import annotations

from assay.config import ModelConfig, PipelineConfig, Settings
from assay.pipeline.prepare import prepare_completion
from assay.pipeline.trace import new_trace_id
from assay.pipeline.types import CompletionInput, ContextFile, Trace
from assay.providers.registry import create_provider

CONTEXT = tuple(ContextFile(name=f"m{i}.py", content=f"def helper_{i}(value):\n    return value + {i}\n" * 3)
                for i in range(6))


def _prepare(pipeline: PipelineConfig | None) -> Trace:
    config = ModelConfig(name="e", provider="echo", spec="assay-nano")
    settings = Settings(models=[config])
    inp = CompletionInput(prefix="def helper_1(value):\n    ", file_name="app.py", context=CONTEXT, pipeline=pipeline)
    trace = Trace(id=new_trace_id())
    prepare_completion(inp, create_provider(config), settings, trace)
    return trace


def test_request_pipeline_settings_replace_the_configured_ones() -> None:
    assert len(_prepare(None).context) > 1
    assert _prepare(PipelineConfig(context=False)).context == []
    assert len(_prepare(PipelineConfig(max_context_snippets=1)).context) == 1
    assert _prepare(PipelineConfig(context_share=0.0)).context == []
    assert _prepare(PipelineConfig(context_share=0.5)).budget["context"] > _prepare(None).budget["context"]
