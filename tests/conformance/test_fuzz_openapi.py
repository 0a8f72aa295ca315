"""Fuzzing: schemathesis generates requests from the gateway's own OpenAPI document and sends them to a
running gateway (real uvicorn, echo model), once in ``--no-auth`` mode and once with a valid API key,
valid (positive) and schema-violating (negative) requests for every operation; no response may be a 5xx.
The number of examples per operation is bounded to keep this under a minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from assay.config import Settings
from assay.server.app import create_app
from assay.store import open_store
from tests.support.live_server import LiveServer, live_server

MODELS = [{"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "return 1"}}]
MAX_EXAMPLES = 6

schema = schemathesis.openapi.from_dict(create_app(Settings(models=MODELS, auth={"mode": "none"})).openapi())
OPERATIONS = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}
CASES = [(label, mode) for label in sorted(OPERATIONS) for mode in GenerationMode
         if mode is GenerationMode.POSITIVE or len(OPERATIONS[label].body)]
"""Every operation with valid requests; those with a body also with schema-violating ones."""


@pytest.fixture(scope="module", params=["no-auth", "api-key"])
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    if request.param == "no-auth":
        with live_server({"models": MODELS, "auth": {"mode": "none"}}) as srv:
            yield srv, {}
        return
    db = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'assay.db'}"
    store = open_store(db)
    key = store.keys.create("fuzzer", ["complete_code", "generate_code", "chat", "events", "admin"]).secret
    store.close()
    with live_server({"models": MODELS, "auth": {"mode": "keys"}, "database": {"url": db},
                      "limits": {"requests_per_minute": None, "tokens_per_day": None}}) as srv:
        yield srv, {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_no_server_errors(label: str, mode: GenerationMode, gateway: tuple[LiveServer, dict]) -> None:
    srv, headers = gateway
    operation = OPERATIONS[label]

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=srv.url, headers=headers, checks=[not_a_server_error], timeout=20)
        statuses.append(response.status_code)

    statuses: list[int] = []
    fuzz()
    assert statuses and 401 not in statuses, "requests must reach the routes, not stop at authentication"
