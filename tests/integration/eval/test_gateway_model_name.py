"""``assay eval --via-gateway URL`` without ``--model`` records the model the gateway reports.

A real gateway (uvicorn on a free port, real socket) serves the real ``echo`` provider; the command runs
in-process through typer's ``CliRunner``; scoring runs in the real sandbox.
"""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.errors import ProviderError
from assay.eval.generate import GatewayGenerator
from assay.eval.tasks.base import DATA_DIR
from tests.support.live_server import live_server

PROBLEM = str(DATA_DIR / "humaneval" / "example_problem.jsonl")


def _model(name: str) -> dict[str, object]:
    return {"name": name, "provider": "echo", "spec": "assay-nano", "options": {"reply": ["    return 1\n"]}}


def test_the_gateways_only_model_names_the_run(tmp_path: Path) -> None:
    with live_server({"models": [_model("solo")]}) as server:
        done = CliRunner().invoke(app, ["eval", "humaneval", "--data", PROBLEM, "--via-gateway", server.url,
                                        "--db", str(tmp_path / "runs.db"), "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["model"] == "solo"
    assert result["run_id"].startswith("humaneval-solo-")


def test_with_several_models_the_one_that_answers_names_the_run() -> None:
    """The gateway's default completion model (``features.code_completions``) answers a request without a
    model; ``/v1/models`` lists both, so only the answer can tell."""
    settings = {"models": [_model("first"), _model("second")], "features": {"code_completions": "second"}}
    with live_server(settings) as server:
        generator = GatewayGenerator(server.url)
        assert asyncio.run(generator.resolve_model()) == "second"
    assert generator.model == "second" and generator.cache_label.endswith(":second")


def test_a_given_model_is_kept_without_asking_the_gateway() -> None:
    generator = GatewayGenerator("http://127.0.0.1:9", model="given")
    assert asyncio.run(generator.resolve_model()) == "given"


class _HtmlPage(BaseHTTPRequestHandler):
    """Answers every request 200 with an HTML page, as a proxy's login page or a wrong URL does."""

    def _page(self) -> None:
        body = b"<html><body>Sign in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_is_not_a_gateway_is_named_in_one_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(ProviderError, match=f"gateway {url} named no model: .* not OpenAI-compatible JSON"):
            asyncio.run(GatewayGenerator(url).resolve_model())
    finally:
        server.shutdown()
        server.server_close()
