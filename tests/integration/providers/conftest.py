from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.providers.scripted_upstreams import Recorder, anthropic_app, openai_app, serve


@pytest.fixture(scope="module")
def openai_upstream() -> Iterator[tuple[str, Recorder]]:
    """A scripted OpenAI-wire server: ``(base_url ending in /v1, recorder)``."""
    rec = Recorder()
    with serve(openai_app(rec)) as url:
        yield f"{url}/v1", rec


@pytest.fixture(scope="module")
def anthropic_upstream() -> Iterator[tuple[str, Recorder]]:
    """A scripted Anthropic Messages API server: ``(base_url, recorder)``."""
    rec = Recorder()
    with serve(anthropic_app(rec)) as url:
        yield url, rec
