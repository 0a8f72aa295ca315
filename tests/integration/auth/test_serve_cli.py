"""``assay serve`` as a real subprocess: secure by default (anonymous callers get 401), and
``--no-auth`` serves everyone while saying so loudly at start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from tests.integration.auth.conftest import MODELS, V2_BODY


def _serve(tmp_path: Path, *flags: str) -> tuple[int, subprocess.Popen[str]]:
    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump({"models": MODELS}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "AIGW_"))}
    env["ASSAY_HOME"] = str(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", "from assay.cli.main import app; app()", "serve", "-c", str(config),
                             "--port", str(port), "--log-level", "warning", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/monitoring/healthz", timeout=1).status_code == 200:
                return port, proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"assay serve did not start: {proc.communicate()[0]}")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    return proc.communicate(timeout=20)[0]


def test_serve_requires_credentials_by_default(tmp_path: Path) -> None:
    port, proc = _serve(tmp_path)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v2/code/completions", json=V2_BODY, timeout=20)
        assert r.status_code == 401
    finally:
        output = _stop(proc)
    assert "authentication is OFF" not in output
    assert (tmp_path / "assay.db").is_file()


def test_no_auth_serves_everyone_and_warns_loudly(tmp_path: Path) -> None:
    port, proc = _serve(tmp_path, "--no-auth")
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v2/code/completions", json=V2_BODY, timeout=20)
        assert r.status_code == 200 and r.json()["choices"]
    finally:
        output = _stop(proc)
    assert "WARNING: authentication is OFF" in output
