"""Authentication and authorization for the gateway: API keys, GitLab cloud-connector JWTs, the gateway's
own direct-access tokens, per-route scopes, and the :class:`~assay.server.auth.guard.GuardMiddleware`
that applies them (with rate limits and the audit log) to every route but ``/monitoring/*``."""

from assay.server.auth.guard import Guard, GuardMiddleware
from assay.server.auth.principal import Principal

__all__ = ["Guard", "GuardMiddleware", "Principal"]
