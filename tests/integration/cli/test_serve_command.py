"""`assay serve` as a user runs it: a real subprocess on a real port, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ECHO = "models:\n  - name: parrot\n    provider: echo\n    options: {mode: reply, reply: 'return 1'}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(tmp_path: Path, config: str, port: int) -> subprocess.Popen[str]:
    (tmp_path / "assay.yaml").write_text(config)
    return subprocess.Popen([sys.executable, "-m", "assay", "serve", "--no-auth", "--port", str(port)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_serve_answers_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = serve(tmp_path, ECHO, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/v1/completions", json={"prompt": "def f():\n    "}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "assay serve did not start listening"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["choices"][0]["text"] == "return 1"
    finally:
        proc.send_signal(signal.SIGINT)
        code, err = finish(proc)
    assert code == 0, err
    assert "Traceback" not in err and "Application shutdown complete" in err


def test_a_model_that_cannot_start_is_a_one_line_error(tmp_path: Path) -> None:
    config = ("models:\n  - name: qwen\n    provider: openai\n    base_url: http://127.0.0.1:9/v1\n"
              "    spec: qwen2.5-coder\n    tokenizer: /models/not-here\n")
    code, err = finish(serve(tmp_path, config, free_port()))
    assert code == 2
    assert "Traceback" not in err and "startup failed" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == ["error: model 'qwen': tokenizer directory '/models/not-here' does not exist"]


def test_a_taken_port_is_named_before_any_model_loads(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = finish(serve(tmp_path, ECHO, port))
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use (choose another with --port or server.port)"]


@pytest.mark.parametrize(("port", "message"), [("abc", "Invalid value for '--port'"),
                                             ("-1", "cannot listen on 127.0.0.1:-1: bind(): port must be 0-65535.")])
def test_a_bad_port_value_is_refused(tmp_path: Path, port: str, message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "assay", "serve", "--port", port], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message in done.stderr
