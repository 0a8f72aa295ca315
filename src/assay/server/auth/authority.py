"""The gateway's own token authority (GitLab's ``token_authority.py``): 1-hour RS256 direct-access
tokens with ``iss = aud = gitlab-ai-gateway``, signed with ``AIGW_SELF_SIGNED_JWT__SIGNING_KEY`` and
verified with it or with ``AIGW_SELF_SIGNED_JWT__VALIDATION_KEY`` (the previous key, during rotation).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from assay.errors import ConfigError

log = logging.getLogger("assay.server.auth")

GATEWAY_ISSUER = "gitlab-ai-gateway"


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires_at: int


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _load_private(pem: str, name: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name} is not a PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{name} must be an RSA private key (RS256)")
    return key


class TokenAuthority:
    def __init__(self, signing_pem: str | None, validation_pem: str | None = None, *,
                 audience: str = GATEWAY_ISSUER, ttl_s: int = 3600) -> None:
        if not signing_pem:
            log.warning("AIGW_SELF_SIGNED_JWT__SIGNING_KEY is not set: generated a signing key for this process; "
                        "direct-access tokens will not survive a restart or work across replicas")
            signing_pem = generate_private_pem()
        self._signing = _load_private(signing_pem, "AIGW_SELF_SIGNED_JWT__SIGNING_KEY")
        self._verifying = [self._signing.public_key()]
        if validation_pem:
            self._verifying.append(_load_private(validation_pem, "AIGW_SELF_SIGNED_JWT__VALIDATION_KEY").public_key())
        self.audience = audience
        self.ttl_s = ttl_s

    def mint(self, user_id: str, *, realm: str | None, instance_id: str | None, scopes: list[str],
             seat_count: int | None = None) -> MintedToken:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": GATEWAY_ISSUER, "aud": self.audience, "sub": user_id, "iat": now,
                                  "nbf": now, "exp": now + self.ttl_s, "scopes": scopes,
                                  "gitlab_realm": realm, "gitlab_instance_id": instance_id}
        if seat_count is not None:
            claims["duo_seat_count"] = seat_count
        return MintedToken(jwt.encode(claims, self._signing, algorithm="RS256"), now + self.ttl_s)

    def decode(self, token: str) -> dict[str, Any] | None:
        """The claims when one of this authority's keys signed ``token`` with the gateway as issuer;
        None when none did. Raises ``jwt.InvalidTokenError`` for a token it signed that is invalid."""
        for key in self._verifying:
            try:
                jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False})
            except jwt.InvalidSignatureError:
                continue
            return jwt.decode(token, key, algorithms=["RS256"], audience=self.audience, issuer=GATEWAY_ISSUER)
        return None
