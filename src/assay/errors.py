"""One error hierarchy for assay. The server maps these to responses in one place.

::

    AssayError                      (500)
    ├── ConfigError                 (500)  bad assay.yaml, spec/tokenizer mismatch, missing weights
    ├── RequestInvalid              (422)  a request field is wrong; ``field`` names it
    │   └── PayloadTooLarge         (413)
    ├── ModelNotFound               (404)  lists the configured models
    ├── AuthError                   (401)
    │   └── Forbidden               (403)
    └── ProviderError               (502)  upstream 5xx, unusable output, connection refused
        ├── ProviderTimeout         (504)  upstream or decode exceeded its budget
        └── RateLimited             (429)

Every message is one line meant for a user: it says what was wrong, never a traceback.
"""

from __future__ import annotations


class AssayError(Exception):
    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(AssayError):
    status_code = 500


class RequestInvalid(AssayError):
    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class PayloadTooLarge(RequestInvalid):
    status_code = 413


class ModelNotFound(AssayError):
    status_code = 404

    def __init__(self, name: str, available: list[str]) -> None:
        listed = ", ".join(sorted(available)) or "none"
        super().__init__(f"model '{name}' is not configured; configured models: {listed}")
        self.name = name
        self.available = available


class AuthError(AssayError):
    status_code = 401


class Forbidden(AuthError):
    status_code = 403


class ProviderError(AssayError):
    status_code = 502


class ProviderTimeout(ProviderError):
    status_code = 504


class RateLimited(ProviderError):
    status_code = 429

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
