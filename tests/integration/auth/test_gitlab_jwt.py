"""GitLab cloud-connector JWTs against a running gateway and a real local OIDC issuer (HTTP server with
generated RSA keys): signature, audience and header ↔ claim checks with the contract's bodies (§7),
unit-primitive scopes, JWKS key rotation, and direct-access tokens from /v1/code/user_access_token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.integration.auth.conftest import V2_BODY, V3_BODY, bearer, keyed_settings
from tests.integration.auth.oidc_issuer import OidcIssuer, oidc_issuer
from tests.support.live_server import LiveServer, live_server

HEADERS = {"X-Gitlab-Authentication-Type": "oidc", "X-Gitlab-Realm": "self-managed",
           "X-Gitlab-Instance-Id": "inst-1", "X-Gitlab-Global-User-Id": "u-42"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    with oidc_issuer() as iss:
        yield iss


@pytest.fixture
def gateway(issuer: OidcIssuer, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("AIGW_GITLAB_URL", issuer.url)
    with live_server(keyed_settings(db_url)) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        yield client


def _call(client: httpx.Client, token: str, path: str = "/v2/code/completions", body: dict | None = None,
          **headers: str) -> httpx.Response:
    return client.post(path, json=body or V2_BODY, headers={**HEADERS, **headers, **bearer(token)})


def test_instance_token_from_the_gitlab_url_is_accepted(gateway: httpx.Client, issuer: OidcIssuer) -> None:
    token = issuer.token(scopes=["complete_code", "generate_code"])
    r = _call(gateway, token)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"]
    assert _call(gateway, token, "/v2/code/generations").status_code == 200
    assert _call(gateway, token, "/v3/code/completions", V3_BODY).status_code == 200


@pytest.mark.parametrize(("header", "value", "message"), [
    ("X-Gitlab-Realm", "saas", "Header mismatch 'X-Gitlab-Realm'"),
    ("X-Gitlab-Instance-Id", "other", "Header mismatch 'X-Gitlab-Instance-Id'"),
    ("X-Gitlab-Authentication-Type", "pat", "Header mismatch 'X-Gitlab-Authentication-Type': expected 'oidc'"),
])
def test_each_header_claim_mismatch_is_401_with_gitlabs_body(gateway: httpx.Client, issuer: OidcIssuer, header: str,
                                                              value: str, message: str) -> None:
    r = _call(gateway, issuer.token(scopes=["complete_code"]), **{header: value})
    assert r.status_code == 401
    assert r.json() == {"error": message}


def test_bad_tokens_are_forbidden_by_the_auth_provider(gateway: httpx.Client, issuer: OidcIssuer) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (issuer.token(scopes=["complete_code"], aud="someone-else"),
                  issuer.token(scopes=["complete_code"], ttl_s=-60),
                  issuer.token(scopes=["complete_code"], key=stranger),
                  "not.a.jwt"):
        r = _call(gateway, token)
        assert (r.status_code, r.json()) == (401, {"error": "Forbidden by auth provider"}), token


def test_seat_count_mismatch_is_only_logged(gateway: httpx.Client, issuer: OidcIssuer) -> None:
    token = issuer.token(scopes=["complete_code"], duo_seat_count="10")
    assert _call(gateway, token, **{"X-Gitlab-Duo-Seat-Count": "11"}).status_code == 200


def test_missing_unit_primitive_is_403_with_detail(gateway: httpx.Client, issuer: OidcIssuer) -> None:
    r = _call(gateway, issuer.token(scopes=["complete_code"]), "/v2/code/generations")
    assert r.status_code == 403
    assert "generate_code" in r.json()["detail"]


def test_direct_access_token_works_for_completions_only(gateway: httpx.Client, issuer: OidcIssuer) -> None:
    r = _call(gateway, issuer.token(scopes=["complete_code", "generate_code"]), "/v1/code/user_access_token")
    assert r.status_code == 200, r.text
    minted = r.json()["token"]
    claims = jwt.decode(minted, options={"verify_signature": False})
    assert claims["iss"] == claims["aud"] == "gitlab-ai-gateway"
    assert (claims["sub"], claims["scopes"], claims["exp"] - claims["iat"]) == ("u-42", ["complete_code"], 3600)
    assert r.json()["expires_at"] == claims["exp"]
    assert jwt.get_unverified_header(minted)["alg"] == "RS256"
    assert _call(gateway, minted).status_code == 200
    r = _call(gateway, minted, **{"X-Gitlab-Global-User-Id": "u-43"})
    assert (r.status_code, r.json()) == (401, {"error": "Header mismatch 'X-Gitlab-Global-User-Id'"})
    for path, body in (("/v2/code/generations", V2_BODY), ("/v3/code/completions", V3_BODY),
                       ("/v4/code/suggestions", V3_BODY), ("/v1/code/user_access_token", V2_BODY)):
        r = _call(gateway, minted, path, body)
        assert r.status_code == 403 and "detail" in r.json(), path


def test_unknown_key_id_refetches_the_jwks_after_rotation(issuer: OidcIssuer, db_url: str) -> None:
    settings = keyed_settings(db_url, auth={"gitlab_url": issuer.url, "jwks_refresh_min_interval_s": 0})
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        before = issuer.jwks_requests
        assert _call(client, issuer.token(scopes=["complete_code"])).status_code == 200
        assert _call(client, issuer.token(scopes=["complete_code"])).status_code == 200
        assert issuer.jwks_requests == before + 1
        issuer.rotate()
        assert _call(client, issuer.token(scopes=["complete_code"])).status_code == 200
        assert issuer.jwks_requests == before + 2


def test_jwks_refresh_on_unknown_kids_is_rate_limited(issuer: OidcIssuer, db_url: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    settings = keyed_settings(db_url, auth={"gitlab_url": issuer.url, "jwks_refresh_min_interval_s": 300})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert _call(client, issuer.token(scopes=["complete_code"])).status_code == 200
        fetched = issuer.jwks_requests
        for i in range(5):
            assert _call(client, issuer.token(scopes=["complete_code"], kid=f"bogus{i}", key=stranger)).status_code == 401
        assert issuer.jwks_requests == fetched


def _mint(srv: LiveServer, realm: str) -> str:
    r = httpx.post(srv.url + "/v1/code/user_access_token", timeout=20,
                   headers={**HEADERS, "X-Gitlab-Realm": realm, "Bypass-Auth": "true"})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_signing_and_validation_keys_rotate(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.server.auth.authority import generate_private_pem

    old, new = generate_private_pem(), generate_private_pem()
    monkeypatch.setenv("AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER", "true")
    monkeypatch.setenv("AIGW_SELF_SIGNED_JWT__SIGNING_KEY", old)
    with live_server(keyed_settings(db_url)) as srv:
        token = _mint(srv, "self-managed")
    monkeypatch.setenv("AIGW_SELF_SIGNED_JWT__SIGNING_KEY", new)
    monkeypatch.setenv("AIGW_SELF_SIGNED_JWT__VALIDATION_KEY", old)
    with live_server(keyed_settings(db_url)) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert _call(client, token).status_code == 200
    monkeypatch.delenv("AIGW_SELF_SIGNED_JWT__VALIDATION_KEY")
    with live_server(keyed_settings(db_url)) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert _call(client, token).status_code == 401


def test_bypass_header_is_ignored_unless_gitlabs_test_mode_is_on(db_url: str) -> None:
    with live_server(keyed_settings(db_url)) as srv:
        r = httpx.post(srv.url + "/v1/code/user_access_token", headers={**HEADERS, "Bypass-Auth": "true"}, timeout=20)
        assert r.status_code == 401


@pytest.mark.parametrize("realm", ["saas", "self-managed"])
def test_black_box_smoke_like_gitlabs_integration_tests(db_url: str, monkeypatch: pytest.MonkeyPatch, realm: str) -> None:
    """The shape of GitLab's own gateway integration test (contract §14.4): a token from
    /v1/code/user_access_token obtained with Bypass-Auth, then a completion with full X-Gitlab-* headers."""
    monkeypatch.setenv("AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER", "true")
    with live_server(keyed_settings(db_url)) as srv:
        token = _mint(srv, realm)
        headers = {**HEADERS, "X-Gitlab-Realm": realm, "X-Gitlab-Host-Name": "gitlab.example.com",
                   "X-Gitlab-Version": "17.9.0", "X-Gitlab-Duo-Seat-Count": "1", **bearer(token)}
        r = httpx.post(srv.url + "/v2/code/completions", headers=headers, timeout=20, json={
            "prompt_version": 1, "project_path": "gitlab-org/gitlab", "project_id": 278964,
            "current_file": {"file_name": "main.py", "content_above_cursor": "def hello_world():\n    ",
                             "content_below_cursor": ""}})
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["text"]


def test_customers_dot_is_a_second_issuer_and_an_unreachable_one_is_skipped(
        issuer: OidcIssuer, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("AIGW_GITLAB_URL", dead)
    monkeypatch.setenv("AIGW_CUSTOMER_PORTAL_URL", issuer.url)
    with live_server(keyed_settings(db_url)) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert _call(client, issuer.token(scopes=["complete_code"])).status_code == 200
    monkeypatch.delenv("AIGW_CUSTOMER_PORTAL_URL")
    with live_server(keyed_settings(db_url)) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        r = _call(client, issuer.token(scopes=["complete_code"]))
        assert (r.status_code, r.json()) == (401, {"error": "Forbidden by auth provider"})


def test_a_token_with_only_the_prompts_own_unit_primitive_reaches_the_prompt(gateway: httpx.Client,
                                                                           issuer: OidcIssuer) -> None:
    """The guard lets any valid credential through to ``/v1/prompts/*``; the route checks the prompt's
    ``unit_primitives`` (GitLab issues such JWTs, e.g. ``generate_commit_message`` alone)."""
    token = issuer.token(scopes=["generate_commit_message"])
    body = {"inputs": {"diff": "-a = 1\n+a = 2\n"}}
    r = _call(gateway, token, "/v1/prompts/generate_commit_message", body)
    assert r.status_code == 200, r.text
    assert r.json() == "return 1"
    r = _call(gateway, token, "/v1/prompts/explain_code", {"inputs": {"code": "x + 1"}})
    assert r.status_code == 403 and "explain_code" in r.json()["detail"]
    r = gateway.post("/v1/prompts/generate_commit_message", json=body, headers=HEADERS)
    assert r.status_code == 401


def _generation(prompt_id: str | None, stream: bool = False) -> dict:
    payload = {"file_name": "a.py", "content_above_cursor": "# add two numbers\n", "content_below_cursor": "",
               "stream": stream, **({"prompt_id": prompt_id} if prompt_id else {})}
    return {"prompt_components": [{"type": "code_editor_generation", "payload": payload}]}


@pytest.mark.parametrize("path", ["/v3/code/completions", "/v4/code/suggestions"])
def test_generation_with_a_prompt_id_also_needs_the_prompts_unit_primitive(gateway: httpx.Client, issuer: OidcIssuer,
                                                                         path: str) -> None:
    """Contract §1 / §12 #6: v3 and v4 take ``complete_code`` even for generations, and with ``prompt_id``
    the prompt's own unit primitive too (``generate_code`` for GitLab's generation prompts)."""
    completion_only = issuer.token(scopes=["complete_code"])
    assert _call(gateway, completion_only, path, _generation(None)).status_code == 200
    for body in (_generation("code_suggestions/generations"), _generation("code_suggestions/generations", True),
                 {"prompt_components": [{"type": "code_editor_generation", "payload": {
                     **_generation(None)["prompt_components"][0]["payload"], "agent_id": "code_suggestions/generations"}}]}):
        r = _call(gateway, completion_only, path, body)
        assert r.status_code == 403, r.text
        assert r.json() == {"detail": "prompt 'code_suggestions/generations' needs the unit primitive generate_code; "
                                      "this credential has complete_code"}
    both = issuer.token(scopes=["complete_code", "generate_code"])
    r = _call(gateway, both, path, _generation("code_suggestions/generations"))
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"]
    with gateway.stream("POST", path, json=_generation("code_suggestions/generations", True),
                        headers={**HEADERS, **bearer(both)}) as streamed:
        assert streamed.status_code == 200 and streamed.read()
    r = _call(gateway, issuer.token(scopes=["complete_code", "generate_code"]), path, _generation("explain_code"))
    assert r.status_code == 403 and "needs the unit primitive explain_code" in r.json()["detail"]
    assert _call(gateway, issuer.token(scopes=["complete_code", "explain_code"]), path,
                 _generation("explain_code")).status_code == 200
