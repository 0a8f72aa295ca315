"""Rate limits and token quotas on running gateways: 429 with Retry-After per key and per user, per-key
overrides, and one limit shared by two gateways through a real redis-server started by the test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from assay.store import open_store
from tests.integration.auth.conftest import V2_BODY, bearer, keyed_settings
from tests.support.live_server import live_server


@pytest.fixture
def db_url(tmp_path) -> str:  # noqa: ANN001
    return f"sqlite:///{tmp_path / 'assay.db'}"


def _fresh_minute() -> None:
    """Wait out the last seconds of a minute so a test's requests share one fixed window."""
    left = 60 - time.time() % 60
    if left < 6:
        time.sleep(left + 0.1)


def _key(db_url: str, user: str = "ann", **kw: object) -> str:
    store = open_store(db_url)
    try:
        return store.keys.create(user, ["complete_code"], **kw).secret  # type: ignore[arg-type]
    finally:
        store.close()


def _post(client: httpx.Client, key: str) -> httpx.Response:
    return client.post("/v2/code/completions", json=V2_BODY, headers=bearer(key))


def test_requests_per_minute_per_key_and_per_user(db_url: str) -> None:
    settings = keyed_settings(db_url, limits={"requests_per_minute": 3, "tokens_per_day": None})
    a1, a2, bob = _key(db_url), _key(db_url), _key(db_url, "bob")
    _fresh_minute()
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert [_post(client, a1).status_code for _ in range(2)] == [200, 200]
        assert _post(client, a2).status_code == 200
        r = _post(client, a2)
        assert r.status_code == 429
        assert "user:ann" in r.json()["detail"] and "3 requests per minute" in r.json()["detail"]
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert _post(client, bob).status_code == 200
        r = client.post("/v1/completions", json={"prompt": "def f"}, headers=bearer(a1))
        assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"


def test_a_keys_own_limit_overrides_the_default(db_url: str) -> None:
    settings = keyed_settings(db_url, limits={"requests_per_minute": 100, "tokens_per_day": None})
    tight, loose = _key(db_url, requests_per_minute=1), _key(db_url, "bob")
    _fresh_minute()
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert _post(client, tight).status_code == 200
        r = _post(client, tight)
        assert r.status_code == 429 and "key:" in r.json()["detail"]
        assert [_post(client, loose).status_code for _ in range(3)] == [200, 200, 200]


def test_tokens_per_day_quota(db_url: str) -> None:
    settings = keyed_settings(db_url, limits={"requests_per_minute": None, "tokens_per_day": 5})
    key = _key(db_url)
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        first = _post(client, key)
        assert first.status_code == 200
        used = first.json()["model"]["tokens_consumption_metadata"]
        assert used["input_tokens"] + used["output_tokens"] >= 5
        r = _post(client, key)
        assert r.status_code == 429 and "tokens per day" in r.json()["detail"]
        assert int(r.headers["retry-after"]) > 60


@pytest.fixture
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_gateways_share_one_limit_through_redis(db_url: str, redis_url: str) -> None:
    settings = keyed_settings(db_url, limits={"requests_per_minute": 4, "tokens_per_day": None, "redis_url": redis_url})
    key = _key(db_url)
    _fresh_minute()
    with live_server(settings) as one, live_server(settings) as two, \
            httpx.Client(base_url=one.url, timeout=20) as c1, httpx.Client(base_url=two.url, timeout=20) as c2:
        codes = [_post(c, key).status_code for c in (c1, c2, c1, c2)]
        assert codes == [200, 200, 200, 200]
        assert _post(c1, key).status_code == 429
        assert _post(c2, key).status_code == 429


def test_in_process_limits_are_per_gateway(db_url: str) -> None:
    """The contrast to the Redis test: without a shared store each replica counts alone."""
    settings = keyed_settings(db_url, limits={"requests_per_minute": 2, "tokens_per_day": None})
    key = _key(db_url)
    _fresh_minute()
    with live_server(settings) as one, live_server(settings) as two, \
            httpx.Client(base_url=one.url, timeout=20) as c1, httpx.Client(base_url=two.url, timeout=20) as c2:
        assert [_post(c1, key).status_code for _ in range(3)] == [200, 200, 429]
        assert [_post(c2, key).status_code for _ in range(2)] == [200, 200]


def test_unreachable_redis_is_a_clear_error_not_a_crash(db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = keyed_settings(db_url, limits={"redis_url": f"redis://127.0.0.1:{port}/0"})
    key = _key(db_url)
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        r = _post(client, key)
        assert r.status_code == 502 and "rate-limit store" in r.json()["detail"]
