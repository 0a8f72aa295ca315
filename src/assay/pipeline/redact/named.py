"""Secrets recognised by the name they are assigned to, not by their own shape.

Two judgements, both on ``name <op> value`` (``=``, ``:``, ``:=``, ``=>``; Python/TypeScript type
annotations allowed between name and ``=``; JSON keys, YAML, .env, INI, shell, keyword arguments):

* **passwords** — a name with a password word (``password``, ``passwd``, ``passphrase``,
  ``PGPASSWORD``, …, or ending in ``pass``/``pwd``/``pw``: ``db_pass``, not ``pass_through``) and a
  literal value of 4+ characters. Any quoted literal counts (passwords are short and low-entropy).
* **keys, secrets, tokens** — a name with a word ``key``, ``secret``, ``token``, ``auth``,
  ``credential(s)``, ``salt`` or ending in one (``apiKey``, ``AUTHTOKEN``), not ``public`` /
  ``publishable``, with a random-looking value: 12+ characters of ``[A-Za-z0-9+/=_.~!@#$%^&*()-]``
  with letters and digits and Shannon entropy >= ``ENTROPY_BITS`` (3.0 bits per character; random
  base-16 strings of 16+ characters score about 3.5, identifiers with digits mostly below), or,
  without digits, mixed case that switches case often; never values whose letters form long words
  (``PydanticSettingsSource``) or dotted property names (``fs.s3.cse.enabled``).

Neither counts when the name ends in a word that says the value is something else (``_id``,
``_path``, ``_url``, ``_timeout``, ``_last_used``, …), nor for references and stand-ins:
``os.environ[...]``, ``process.env.X``, ``${VAR}``, ``$VAR``, ``{var}``, ``{{ var }}``, ``%(x)s``,
``<your-password>``, ``None``/``null``, masks (``****``), words like ``password``/``changeme``/
``example``/``test``, a value equal to its name (enum constants), a literal that is part of an
expression (``" ".join(…)``). Unquoted values are judged as code when they look like code: in
``name = value`` with spaces or a lower-case name, bare identifiers (without digits for passwords,
with ``_`` or ``.`` for keys) and numbers are variables, not literals; after a quoted JSON-style key
an unquoted identifier is a variable; after ``:`` the value must end its line (``Pre-pass: find
inputs`` is prose, ``password: hunter2  # rotate`` is YAML).

``Authorization: Bearer …`` / ``Basic …`` values pass the same random-looking test.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

ENTROPY_BITS = 3.0
"""Shannon entropy (bits per character) a named key/secret/token value must reach."""

_ASSIGN = re.compile(
    r"""(?<![\w$])(?P<name>[A-Za-z_][\w.-]*?)["']?\]?[ \t]*
        (?P<op>:=|=>|=(?!=)|:(?:[ \t]*[A-Za-z_][\w\[\]., |]*?[ \t]*=(?!=))?)[ \t]*
        (?P<value>"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|[^\s,;#'"`)\]}]+)""",
    re.VERBOSE)
_NAME_HINT = re.compile(r"pass|pwd|pw|secret|token|key|auth|credential|salt", re.IGNORECASE)
"""Every name either judgement accepts contains one of these."""
_XML = re.compile(r"<(?P<name>[\w.-]*(?:password|passwd)[\w.-]*)>"
                  r"(?P<value>[^<\s]{4,})</(?P=name)>", re.IGNORECASE)
_AUTH = re.compile(r"\b(?:Bearer|Basic|Token)[ \t]+(?P<value>[A-Za-z0-9._~+/-]{16,}=*)")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_PASSWORD_WORDS = frozenset({"password", "passwd", "passphrase", "passwort", "pword"})
_SHORT_PASSWORD_WORDS = frozenset({"pass", "pwd", "pw"})
"""Password words only as the last word of a name (``db_pass``, not ``pass_through``)."""
_KEY_WORDS = frozenset({"key", "secret", "token", "auth", "credential", "credentials", "salt", "apikey",
                        "secretkey", "accesskey", "privatekey", "authtoken", "accesstoken", "signingkey"})
_NOT_SECRET_LAST = frozenset({
    "id", "ids", "path", "file", "filename", "dir", "url", "uri", "endpoint", "host", "name", "names", "type",
    "length", "len", "size", "header", "env", "var", "prefix", "suffix", "count", "ttl", "expiry", "expires",
    "expiration", "timeout", "field", "column", "format", "mode", "version", "hint", "template", "label",
    "message", "text", "title", "placeholder", "prompt", "regex", "pattern", "policy", "validator", "form",
    "input", "attr", "selector", "route", "view", "page", "min", "max", "required", "enabled", "algorithm",
    "alg", "kind", "location", "provider", "store", "cache", "class", "module", "strength", "rules",
    "used", "at", "changed", "updated", "date", "time", "since", "age", "status", "reset", "strategy",
})
_NOT_SECRET_ANY = frozenset({"public", "publishable", "pub"})
_PLACEHOLDERS = frozenset({
    "password", "passwd", "pass", "secret", "token", "apikey", "key", "changeme", "changeit", "example",
    "sample", "placeholder", "redacted", "dummy", "fake", "none", "null", "nil", "undefined", "true", "false",
    "todo", "tbd", "test", "empty", "required", "optional", "str", "string", "int", "bool", "bytes", "any", "secretstr",
    "mypassword", "yourpassword", "yourpasswordhere", "enteryourpassword", "yoursecret", "yourtoken",
    "yourapikey", "yourkey", "secretvalue", "hidden", "masked", "notset", "unset", "default",
})
_REFERENCE = re.compile(
    r"""^(?:\$|%|\{|\#\{|<.*>$|@|&|[^A-Za-z0-9]+$|x+$|X+$|0+$|
        (?:os|process|env|ENV|config|settings|secrets|vault|System|getenv|context|self|this|props|params)[.\[(]|
        (?:your|my|enter|insert|put|replace|the)[-_ ]?.*(?:password|secret|token|key|here)$)""",
    re.VERBOSE | re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?[\d.]+")
_SEGMENT = r"[a-z][a-z0-9_-]*(?:[A-Z][a-z0-9_-]+)*"
_PROPERTY_PATH = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT}){{2,}}")
"""``fs.s3.cse.kms.keyId``: a dotted property name in lower or camel case, not a token."""
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
    return words[-1] in _SHORT_PASSWORD_WORDS or any(
        w in _PASSWORD_WORDS or w.endswith(("password", "passwd")) for w in words)


def _is_key_name(words: list[str]) -> bool:
    if not words or words[-1] in _NOT_SECRET_LAST or _NOT_SECRET_ANY.intersection(words):
        return False
    return any(w in _KEY_WORDS or w.endswith(("key", "secret", "token")) for w in words)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def is_reference(value: str, quoted: bool = False) -> bool:
    """True for values that point at a secret or stand in for one instead of being one.

    An unquoted value with a call or subscript in it (``get_secret()``, ``env["X"]``) is code.
    """
    if not value.strip():
        return True
    if _squash(value) in _PLACEHOLDERS or _REFERENCE.match(value):
        return True
    return not quoted and ("(" in value or "[" in value)


def random_looking(value: str) -> bool:
    """True for token-like values a person did not type as words (see the module docstring)."""
    if len(value) < 12 or not _TOKEN_CHARS.match(value):
        return False
    digits = any(c.isdigit() for c in value)
    letters = any(c.isalpha() for c in value)
    if _wordy(value) or _PROPERTY_PATH.fullmatch(value):
        return False
    if digits and letters:
        return shannon_entropy(value) >= ENTROPY_BITS
    if digits or not (any(c.isupper() for c in value) and any(c.islower() for c in value)):
        return False
    alpha = [c for c in value if c.isalpha()]
    switches = sum(1 for a, b in zip(alpha, alpha[1:], strict=False) if a.isupper() != b.isupper())
    return switches / len(alpha) >= 0.25 and shannon_entropy(value) >= 3.5


def _wordy(value: str) -> bool:
    """True when the letters form long words (``PydanticSettingsSource``, ``waitForTaskToken2``):
    random strings break into words of one to three letters."""
    words = [w for w in _WORD.findall(value) if w.isalpha()]
    return bool(words) and sum(map(len, words)) / len(words) >= 4


@dataclass(frozen=True)
class _Assignment:
    name: str
    op: str
    value: str
    """The literal without its quotes; empty when the literal is part of an expression (``"x".join(…)``)."""
    quoted: bool
    code_style: bool
    """``name = value`` in code (spaces around ``=``, or a lower-case name) rather than .env / shell."""
    line_ends: bool
    """Nothing but a comment or a separator follows the value on its line."""
    name_quoted: bool
    """``"name": value``: a quoted key with an unquoted value is code (JSON would quote the value)."""


def _password_literal(a: _Assignment) -> bool:
    if len(a.value) < 4 or is_reference(a.value, a.quoted) or _squash(a.value) == _squash(a.name):
        return False
    if a.quoted:
        return True
    if (a.op.startswith(":") and not a.line_ends) or (a.code_style and _NUMBER.fullmatch(a.value)):
        return False
    if re.fullmatch(r"[A-Za-z_][\w.]*", a.value):
        if a.name_quoted or a.code_style and not any(c.isdigit() for c in a.value):
            return False
        if a.op.startswith(":") and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", a.value):
            return False
    return True


def _key_literal(a: _Assignment) -> bool:
    if is_reference(a.value, a.quoted) or not random_looking(a.value):
        return False
    if a.quoted:
        return True
    if a.op.startswith(":") and not a.line_ends:
        return False
    return not ((a.code_style or a.name_quoted) and re.fullmatch(r"[A-Za-z_]\w*[_.][\w.]*", a.value))


def _assignment(text: str, m: re.Match[str]) -> _Assignment:
    raw, name, op = m.group("value"), m.group("name"), m.group("op")
    quoted = raw[:1] in "\"'`" and len(raw) >= 2 and raw[-1] == raw[0]
    spaced = text[m.end("name"):m.start("op")].strip("\"']") != "" or text[m.start("op") - 1:m.start("op")] == " "
    code_style = op.startswith("=") and not op.startswith("=>") and (spaced or name != name.upper())
    line_end = text.find("\n", m.end("value"))
    rest = text[m.end("value"):line_end if line_end >= 0 else len(text)].strip()
    line_ends = rest == "" or rest.startswith(("#", "//", ",", ";", "}"))
    value = raw[1:-1] if quoted else raw
    if quoted and rest.startswith((".", "[", "%", "+", "*")):
        value = ""
    name_quoted = text[m.end("name"):m.end("name") + 1] in ("'", '"')
    return _Assignment(name, op, value, quoted, code_style, line_ends, name_quoted)


def _candidate_lines(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each line with a secret-ish word: the only lines the assignment regex reads."""
    done = -1
    for m in _NAME_HINT.finditer(text):
        if m.start() < done:
            continue
        end = text.find("\n", m.end())
        done = len(text) if end < 0 else end
        yield text.rfind("\n", 0, m.start()) + 1, done


def named_secrets(text: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of each named secret value in ``text`` (``password`` or ``secret_assignment``)."""
    matches = (m for start, end in _candidate_lines(text) for m in _ASSIGN.finditer(text, start, end))
    for m in matches:
        a = _assignment(text, m)
        start = m.start("value") + (1 if a.quoted else 0)
        words = name_words(a.name)
        if _is_password_name(words) and _password_literal(a):
            yield "password", start, start + len(a.value)
        elif _is_key_name(words) and _key_literal(a):
            yield "secret_assignment", start, start + len(a.value)
    for m in _XML.finditer(text):
        if not is_reference(m.group("value")):
            yield "password", m.start("value"), m.end("value")
    if not any(word in text for word in ("Bearer", "Basic", "Token")):
        return
    for m in _AUTH.finditer(text):
        if random_looking(m.group("value")):
            yield "auth_header", m.start("value"), m.end("value")
