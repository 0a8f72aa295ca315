"""Secrets recognised by the name they are assigned to, not by their own shape.

Two judgements, both on ``name <op> value`` (``=``, ``:``, ``:=``, ``=>``; Python/TypeScript type
annotations allowed between name and ``=``; JSON keys, YAML, .env, INI, shell, keyword arguments):

* **passwords** — a name with a password word (``password``, ``passwd``, ``pwd``, ``pass``,
  ``passphrase``, ``PGPASSWORD``, …) and a literal value of 4+ characters. Any literal counts
  (passwords are short and low-entropy); references are not secrets: ``os.environ[...]``,
  ``process.env.X``, ``${VAR}``, ``$VAR``, ``{{ var }}``, ``%(x)s``, ``<your-password>``, function
  calls, ``None``/``null``, masks (``****``), the words ``password``/``changeme``/``example``/…,
  and in code (a lower-case name with ``=``) bare identifiers without digits (``password = pw``).
* **keys, secrets, tokens** — a name with a word ``key``, ``secret``, ``token``, ``auth``,
  ``credential(s)``, ``salt`` or ending in one (``apiKey``, ``AUTHTOKEN``), not ending in a word that
  says the value is something else (``_id``, ``_path``, ``_url``, ``_name``, ``_type``, …) and not
  ``public``/``publishable``, with a random-looking value: 12+ characters of ``[A-Za-z0-9+/=_.~-]``
  with letters and digits and Shannon entropy >= ``ENTROPY_BITS`` (3.0 bits per character; random
  base-16 strings of 16+ characters score about 3.5, English identifiers below it once digits are
  required), or, without digits, mixed case that switches case often (not camelCase words).

``Authorization: Bearer …`` / ``Basic …`` values pass the same random-looking test.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

ENTROPY_BITS = 3.0
"""Shannon entropy (bits per character) a named key/secret/token value must reach."""

_ASSIGN = re.compile(
    r"""(?<![\w$])(?P<name>[A-Za-z_][\w.-]*?)["']?\]?[ \t]*
        (?P<op>:=|=>|=(?!=)|:(?:[ \t]*[A-Za-z_][\w\[\]., |]*?[ \t]*=(?!=))?)[ \t]*
        (?P<value>"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|[^\s,;#'"`)\]}]+)""",
    re.VERBOSE)
_XML = re.compile(r"<(?P<name>[\w.-]*(?:password|passwd)[\w.-]*)>"
                  r"(?P<value>[^<\s]{4,})</(?P=name)>", re.IGNORECASE)
_AUTH = re.compile(r"\b(?:Bearer|Basic|Token)[ \t]+(?P<value>[A-Za-z0-9._~+/-]{16,}=*)")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "pw", "passwort", "pword"})
_KEY_WORDS = frozenset({"key", "secret", "token", "auth", "credential", "credentials", "salt", "apikey",
                        "secretkey", "accesskey", "privatekey", "authtoken", "accesstoken", "signingkey"})
_NOT_SECRET_LAST = frozenset({
    "id", "ids", "path", "file", "filename", "dir", "url", "uri", "endpoint", "host", "name", "names", "type",
    "length", "len", "size", "header", "env", "var", "prefix", "suffix", "count", "ttl", "expiry", "expires",
    "expiration", "timeout", "field", "column", "format", "mode", "version", "hint", "template", "label",
    "message", "text", "title", "placeholder", "prompt", "regex", "pattern", "policy", "validator", "form",
    "input", "attr", "selector", "route", "view", "page", "min", "max", "required", "enabled", "algorithm",
    "alg", "kind", "location", "provider", "store", "cache", "class", "module", "strength", "rules",
})
_NOT_SECRET_ANY = frozenset({"public", "publishable", "pub"})
_PLACEHOLDERS = frozenset({
    "password", "passwd", "pass", "secret", "token", "apikey", "key", "changeme", "changeit", "example",
    "sample", "placeholder", "redacted", "dummy", "fake", "none", "null", "nil", "undefined", "true", "false",
    "todo", "tbd", "empty", "required", "optional", "str", "string", "int", "bool", "bytes", "any", "secretstr",
    "mypassword", "yourpassword", "yourpasswordhere", "enteryourpassword", "yoursecret", "yourtoken",
    "yourapikey", "yourkey", "secretvalue", "hidden", "masked", "notset", "unset", "default",
})
_REFERENCE = re.compile(
    r"""^(?:\$|%|\{\{|\#\{|<.*>$|@|&|\*+$|x+$|X+$|\.+$|-+$|_+$|•+$|0+$|
        (?:os|process|env|ENV|config|settings|secrets|vault|System|getenv|context|self|this|props|params)[.\[(]|
        (?:your|my|enter|insert|put|replace|the)[-_ ]?.*(?:password|secret|token|key|here)$)""",
    re.VERBOSE | re.IGNORECASE)
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_.~!@#$%^&*()-]+$")


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s character distribution (0 for an empty string)."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def name_words(name: str) -> list[str]:
    """Lower-case words of an identifier: ``AWS_SECRET_ACCESS_KEY`` → aws, secret, access, key."""
    return [w.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _WORD.findall(part)]


def _is_password_name(words: list[str]) -> bool:
    if not words or words[-1] in _NOT_SECRET_LAST:
        return False
    return any(w in _PASSWORD_WORDS or w.endswith(("password", "passwd")) for w in words)


def _is_key_name(words: list[str]) -> bool:
    if not words or words[-1] in _NOT_SECRET_LAST or _NOT_SECRET_ANY.intersection(words):
        return False
    return any(w in _KEY_WORDS or w.endswith(("key", "secret", "token")) for w in words)


def is_reference(value: str, quoted: bool = False) -> bool:
    """True for values that point at a secret or stand in for one instead of being one.

    An unquoted value with a call or subscript in it (``get_secret()``, ``env["X"]``) is code.
    """
    if not value.strip():
        return True
    squashed = re.sub(r"[-_ ]", "", value).lower()
    if squashed in _PLACEHOLDERS or _REFERENCE.match(value):
        return True
    return not quoted and ("(" in value or "[" in value)


def random_looking(value: str) -> bool:
    """True for token-like values a person did not type as words (see the module docstring)."""
    if len(value) < 12 or not _TOKEN_CHARS.match(value):
        return False
    digits = any(c.isdigit() for c in value)
    letters = any(c.isalpha() for c in value)
    if digits and letters:
        return shannon_entropy(value) >= ENTROPY_BITS
    if digits or not (any(c.isupper() for c in value) and any(c.islower() for c in value)):
        return False
    alpha = [c for c in value if c.isalpha()]
    switches = sum(1 for a, b in zip(alpha, alpha[1:], strict=False) if a.isupper() != b.isupper())
    return switches / len(alpha) >= 0.25 and shannon_entropy(value) >= 3.5


def _password_literal(name: str, op: str, value: str, quoted: bool) -> bool:
    if len(value) < 4 or is_reference(value, quoted):
        return False
    if quoted:
        return True
    code_style = op.startswith("=") and not op.startswith("=>") and name != name.upper()
    if re.fullmatch(r"[A-Za-z_][\w.]*", value):
        if code_style and not any(c.isdigit() for c in value):
            return False
        if op.startswith(":") and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", value):
            return False
    return True


def named_secrets(text: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of each named secret value in ``text`` (``password`` or ``secret_assignment``)."""
    for m in _ASSIGN.finditer(text):
        raw = m.group("value")
        quoted = raw[:1] in "\"'`" and len(raw) >= 2 and raw[-1] == raw[0]
        value = raw[1:-1] if quoted else raw
        start = m.start("value") + (1 if quoted else 0)
        words = name_words(m.group("name"))
        if _is_password_name(words) and _password_literal(m.group("name"), m.group("op"), value, quoted):
            yield "password", start, start + len(value)
        elif _is_key_name(words) and not is_reference(value, quoted) and random_looking(value):
            yield "secret_assignment", start, start + len(value)
    for m in _XML.finditer(text):
        if not is_reference(m.group("value")):
            yield "password", m.start("value"), m.end("value")
    for m in _AUTH.finditer(text):
        if random_looking(m.group("value")):
            yield "auth_header", m.start("value"), m.end("value")
