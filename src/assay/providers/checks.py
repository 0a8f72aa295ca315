"""Start-up check: every control token a model spec relies on must be one special token of the tokenizer.

A spec whose FIM tokens the tokenizer splits into pieces produces prompts the model has never seen,
and completions that are silently bad; assay refuses such a model at start instead.
"""

from __future__ import annotations

from collections.abc import Callable

from assay.errors import ConfigError
from assay.providers.base import Provider
from assay.specs.schema import ModelSpec


def _single_token(token: str, special: set[str] | None, encode: Callable[[str], list[int]]) -> bool:
    bare = token.strip()
    if special is not None and (token in special or bare in special):
        return True
    for text in dict.fromkeys((token, bare, " " + bare)):
        if len(encode(text)) == 1:
            return True
    return False


def check_spec_against_tokenizer(spec: ModelSpec, special_tokens: set[str] | None,
                                 encode: Callable[[str], list[int]], model: str | None = None) -> None:
    """Raise ``ConfigError`` naming the first FIM / repository token of ``spec`` that is not one token.

    A token passes when the tokenizer declares it special, or when it encodes to exactly one id (with
    its surrounding spaces, stripped, or with one leading space: CodeLlama's ``▁<PRE>`` pieces).
    ``encode`` must not add BOS/EOS.
    """
    for token in spec.special_tokens():
        if not _single_token(token, special_tokens, encode):
            pieces = len(encode(token.strip()))
            who = f"model '{model}'" if model else "the model"
            raise ConfigError(
                f"{who}: spec '{spec.family}' token {token.strip()!r} is not a single special token of its "
                f"tokenizer (it encodes to {pieces} tokens); set spec: to the model's family"
            )


def check_provider_spec(provider: Provider) -> None:
    """Run :func:`check_spec_against_tokenizer` for a started provider; a no-op when it has no tokenizer."""
    tokenizer = provider.tokenizer()
    if tokenizer is None:
        return
    check_spec_against_tokenizer(provider.spec, provider.special_tokens(), tokenizer.encode, model=provider.name)
