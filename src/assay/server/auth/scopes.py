"""Which scope each route needs. Rules are matched on the route's path template, so a route added later
without a rule needs ``admin`` (never nothing); only ``/monitoring/*`` is public.

GitLab unit primitives (``complete_code``, ``generate_code``, ``duo_chat``, ...) are accepted where they
mean the same as assay's scopes. ``self_issued=False`` refuses tokens minted by this gateway's
``/v1/code/user_access_token`` (contract §7.4: generations, v3 and v4). ``/v1/prompts/*`` takes any valid
credential here because the route itself checks the prompt's own unit primitives.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC_PREFIXES = ("/monitoring/",)


@dataclass(frozen=True)
class ScopeRule:
    feature: str
    """Name recorded in the audit log."""
    scopes: frozenset[str] | None
    """Any one of these is enough; None: any valid credential."""
    self_issued: bool = True


def _rule(feature: str, *scopes: str, self_issued: bool = True) -> ScopeRule:
    return ScopeRule(feature, frozenset(scopes) if scopes else None, self_issued)


COMPLETE = _rule("code_completions", "complete_code")
CHAT = _rule("chat", "chat", "duo_chat")
ADMIN = _rule("admin", "admin")

RULES: dict[str, ScopeRule] = {
    "/v1/completions": COMPLETE,
    "/v2/code/completions": COMPLETE,
    "/v2/completions": COMPLETE,
    "/infill": COMPLETE,
    "/v2/code/generations": _rule("code_generations", "generate_code", self_issued=False),
    "/v3/code/completions": _rule("code_completions_v3", "complete_code", self_issued=False),
    "/v4/code/suggestions": _rule("code_suggestions_v4", "complete_code", self_issued=False),
    "/v1/code/user_access_token": _rule("user_access_token", "complete_code", self_issued=False),
    "/v1/chat/completions": CHAT,
    "/v1/chat/{invokable}": _rule("chat", "chat", "duo_chat", "explain_code", "write_tests", "refactor_code",
                                  "explain_vulnerability", "summarize_comments", "troubleshoot_job"),
    "/v1/prompts/{prompt_id:path}": _rule("prompts"),
    "/v1/events": _rule("events", "events"),
    "/v1/models": _rule("models"),
    "/v1/models/{model_id:path}": _rule("models"),
    "/openapi.json": _rule("docs"),
    "/docs": _rule("docs"),
    "/docs/oauth2-redirect": _rule("docs"),
    "/redoc": _rule("docs"),
    "/v1/traces/{trace_id}": ADMIN,
}


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


def rule_for(route_path: str | None) -> ScopeRule:
    """The rule for a route's path template; ``admin`` for an undeclared or unmatched route."""
    return RULES.get(route_path or "", ADMIN)
