"""``assay audit --user U --since 1d [--json]``: read the gateway's append-only audit log.

The integrator wires it into the main app with ``app.command("audit")(audit_command)``. ``--verify``
checks the hash chain and exits 1 naming the first record that was tampered with.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer

from assay.cli.common import JsonOpt, err_console
from assay.cli.keys import ConfigOpt, DbOpt, console, open_cli_store, parse_duration


def audit_command(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's calls.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only calls this recent, e.g. 1d, 12h.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many records.")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Check the hash chain of the whole log and print only "
                                                          "the result (exit 1 when a record was altered).")] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who called which feature with which model, when, with how many tokens."""
    start = time.time() - parse_duration(since) if since else None
    store = open_cli_store(config, db)
    try:
        if verify:
            _report_verification(store.audit.verify(), as_json=as_json)
            return
        records = store.audit.query(user=user, since=start, limit=limit)
    finally:
        store.close()
    if as_json:
        print(json.dumps([{**asdict(r), "total_tokens": r.total_tokens,
                           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.at))} for r in records]))
    else:
        from rich.table import Table

        table = Table("time", "user", "auth", "feature", "model", "status", "tokens")
        for r in records:
            table.add_row(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.at)), r.user, r.auth, r.feature,
                          r.model or "-", str(r.status), str(r.total_tokens))
        console.print(table)


def _report_verification(broken: int | None, *, as_json: bool) -> None:
    """``--verify`` answers one question, so it prints the answer alone (not the log); exit 1 when tampered."""
    if as_json:
        print(json.dumps({"intact": broken is None, "broken_record": broken}))
    elif broken is None:
        err_console.print("audit log hash chain intact")
    else:
        err_console.print(f"[bold red]audit log tampered with:[/] record {broken} does not match its hash chain")
    if broken is not None:
        raise typer.Exit(1)

