"""``assay keys create|list|revoke``: the gateway's API keys, in the database named by ``database.url``
(default ``~/.assay/assay.db``, the one ``assay serve`` reads).

The integrator wires it into the main app with ``app.add_typer(keys_app, name="keys")``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.cli.common import JsonOpt, err_console, fail
from assay.errors import AssayError

keys_app = typer.Typer(help="Create, list and revoke API keys for the gateway.", no_args_is_help=True,
                       pretty_exceptions_enable=False)
console = Console()

KNOWN_SCOPES = ("complete_code", "generate_code", "chat", "events", "admin")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000}

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="assay.yaml naming database.url.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store (overrides database.url).")]


def parse_duration(text: str) -> float:
    """Seconds in ``90d``, ``12h``, ``30m``, ``45s``, ``2w``, ``1y``; ``typer.Exit`` with a message when malformed."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdwy])\s*", text)
    if not match:
        raise fail(f"'{text}' is not a duration; use a number and a unit (s, m, h, d, w, y), e.g. 90d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def open_cli_store(config: Path | None, db: str | None):  # noqa: ANN201
    from assay.config import load_settings
    from assay.store import open_store

    try:
        url = db or load_settings(config).database.url
        return open_store(url)
    except AssayError as exc:
        raise fail(exc.message) from None


def _when(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@keys_app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", "-u", help="Who the key belongs to (audit log, limits).")],
    scopes: Annotated[str, typer.Option("--scopes", help=f"Comma-separated: {', '.join(KNOWN_SCOPES)}.")] = "complete_code",
    expires: Annotated[str | None, typer.Option("--expires", help="Lifetime, e.g. 90d; 'never' for none.")] = "90d",
    rpm: Annotated[int | None, typer.Option("--rpm", help="Requests per minute for this key (default: limits).")] = None,
    tokens_per_day: Annotated[int | None, typer.Option("--tokens-per-day", help="Token quota per day for this key.")] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print it once; only a salted hash is stored."""
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in KNOWN_SCOPES]
    if unknown or not wanted:
        raise fail(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(KNOWN_SCOPES)}")
    lifetime = None if expires in (None, "never") else parse_duration(expires)
    store = open_cli_store(config, db)
    try:
        created = store.keys.create(user, wanted, lifetime, requests_per_minute=rpm, tokens_per_day=tokens_per_day)
    except AssayError as exc:
        raise fail(exc.message) from None
    finally:
        store.close()
    r = created.record
    if as_json:
        print(json.dumps({"key": created.secret, "key_id": r.key_id, "user": r.user, "scopes": list(r.scopes),
                          "expires_at": _when(r.expires_at)}))
        return
    print(created.secret)
    err_console.print(f"key {r.key_id} for {r.user} ({', '.join(r.scopes)}), expires {_when(r.expires_at) or 'never'}; "
                      "it is shown only this once")


@keys_app.command("list")
def list_keys(config: ConfigOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List keys (never their secrets)."""
    store = open_cli_store(config, db)
    try:
        records = store.keys.list()
    finally:
        store.close()
    rows = [{"key_id": r.key_id, "user": r.user, "scopes": list(r.scopes), "state": r.state(),
             "created_at": _when(r.created_at), "expires_at": _when(r.expires_at), "revoked_at": _when(r.revoked_at),
             "requests_per_minute": r.requests_per_minute, "tokens_per_day": r.tokens_per_day} for r in records]
    if as_json:
        print(json.dumps(rows))
        return
    from rich.table import Table

    table = Table("key id", "user", "scopes", "state", "expires")
    for row in rows:
        table.add_row(row["key_id"], row["user"], ",".join(row["scopes"]), row["state"], row["expires_at"] or "never")
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id shown by 'assay keys list'.")],
           config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Revoke a key; the gateway refuses it from the next request on."""
    store = open_cli_store(config, db)
    try:
        record = store.keys.revoke(key_id)
    except AssayError as exc:
        raise fail(exc.message) from None
    finally:
        store.close()
    err_console.print(f"revoked key {record.key_id} of {record.user}")
