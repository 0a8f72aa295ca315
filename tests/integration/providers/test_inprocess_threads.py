"""``options.threads`` of the in-process providers: typed, checked at start-up, and for ``local`` applied per model
in the thread that decodes (torch's count is per thread under OpenMP), leaving the caller's thread as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError
from assay.providers.ctranslate2 import CTranslate2Provider
from assay.providers.inprocess import ChoiceJob, DecodeOutcome
from assay.providers.llamacpp import LlamaCppProvider
from assay.providers.local import THREADS_DEFAULT, LocalProvider
from assay.providers.registry import create_provider
from assay.specs.registry import get_spec
from tests.integration.providers.inprocess_contract import req


class RecordingLocal(LocalProvider):
    """The real local provider, noting torch's thread count in the worker thread after each choice."""

    seen: list[int]

    def _generate_one(self, job: ChoiceJob) -> DecodeOutcome:
        import torch

        outcome = super()._generate_one(job)
        self.seen.append(torch.get_num_threads())
        return outcome


def recording(model_dir: Path, **options: int) -> RecordingLocal:
    provider = RecordingLocal(ModelConfig(name=f"tiny-{options}", provider="local", path=str(model_dir),
                                          options=options), get_spec("assay-nano"))
    provider.seen = []
    return provider


async def test_each_local_model_decodes_with_its_own_thread_count(tiny_model_dir: Path) -> None:
    import torch

    before = torch.get_num_threads()
    one, two, default = recording(tiny_model_dir, threads=1), recording(tiny_model_dir, threads=2), \
        recording(tiny_model_dir)
    for provider in (one, two, default, one):
        await provider.generate(req(max_tokens=2))
    assert one.seen == [1, 1] and two.seen == [2] and default.seen == [THREADS_DEFAULT] == [1]
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(("provider", "options", "message"), [
    ("local", {"threads": -1}, "options.threads: Input should be greater than or equal to 0"),
    ("local", {"thread": 1}, "options.thread: Extra inputs are not permitted"),
    ("llamacpp", {"threads": "many"}, "options.threads: Input should be a valid integer"),
])
def test_bad_threads_option_is_a_config_error(provider: str, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_provider(ModelConfig(name="m", provider=provider, path="/nowhere/x.gguf", spec="assay-nano",
                                    options=options))


def test_llamacpp_threads_default_to_llama_cpp_python_s_choice() -> None:
    provider = create_provider(ModelConfig(name="m", provider="llamacpp", path="/nowhere/x.gguf", spec="assay-nano"))
    assert isinstance(provider, LlamaCppProvider) and provider.options.threads == 0


def test_ctranslate2_threads_default_to_one() -> None:
    provider = create_provider(ModelConfig(name="m", provider="ctranslate2", path="builtin:assay-nano", spec="assay-nano"))
    assert isinstance(provider, CTranslate2Provider) and provider.options.threads == 1
