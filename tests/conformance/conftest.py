from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A live assay server for the test module, configured by the module's ``SETTINGS`` dict."""
    with live_server(request.module.SETTINGS) as srv:
        yield srv
