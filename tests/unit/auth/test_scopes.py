"""Route → scope rules: undeclared routes need ``admin``, direct-access tokens are refused where the
contract says so, and the route table sees routes added after the app was built."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from assay.errors import Forbidden
from assay.server.auth.guard import authorize
from assay.server.auth.principal import Principal, local_user
from assay.server.auth.routing import RouteTable
from assay.server.auth.scopes import ADMIN, RULES, is_public, rule_for


def _p(*scopes: str, kind: str = "key") -> Principal:
    return Principal(user="u", kind=kind, scopes=frozenset(scopes))  # type: ignore[arg-type]


def test_undeclared_routes_need_admin_and_only_monitoring_is_public() -> None:
    assert rule_for("/v1/something-new") is ADMIN
    assert is_public("/monitoring/healthz") and not is_public("/monitoringx") and not is_public("/v1/models")


def test_scopes_per_route() -> None:
    authorize(_p("complete_code"), rule_for("/v2/code/completions"), "/v2/code/completions")
    authorize(_p("duo_chat"), rule_for("/v1/chat/completions"), "/v1/chat/completions")
    authorize(_p("events"), rule_for("/v1/models"), "/v1/models")
    with pytest.raises(Forbidden, match="needs the scope generate_code"):
        authorize(_p("complete_code"), rule_for("/v2/code/generations"), "/v2/code/generations")
    with pytest.raises(Forbidden):
        authorize(_p("complete_code", "chat"), rule_for("/v1/traces/{trace_id}"), "/v1/traces/x")
    authorize(local_user(), rule_for("/v1/traces/{trace_id}"), "/v1/traces/x")


@pytest.mark.parametrize("path", ["/v2/code/generations", "/v3/code/completions", "/v4/code/suggestions",
                                  "/v1/code/user_access_token"])
def test_direct_access_tokens_are_refused_where_gitlab_refuses_them(path: str) -> None:
    with pytest.raises(Forbidden, match="direct-access"):
        authorize(_p("complete_code", "generate_code", kind="self_signed"), rule_for(path), path)
    authorize(_p("complete_code", "generate_code", kind="gitlab"), rule_for(path), path)


def test_the_route_table_sees_routes_added_later() -> None:
    app = FastAPI()
    table = RouteTable(app)
    assert table.lookup("POST", "/v1/later") is None

    @app.post("/v1/later/{item}")
    async def later(item: str) -> str:
        return item

    assert table.lookup("POST", "/v1/later/7") == "/v1/later/{item}"
    assert table.lookup("GET", "/v1/later/7") == "/v1/later/{item}"
    assert rule_for(table.lookup("POST", "/v1/later/7")) is ADMIN
    assert "/v1/later/{item}" not in RULES
