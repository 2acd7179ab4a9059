"""``ocx audit``: the audit trail of changes."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt

app = typer.Typer(help="The audit trail: who changed what, and when.", no_args_is_help=True)

COLUMNS = ("created_at", "actor", "action", "target_type", "target_id", "changes")


@app.command("list")
def list_events(
    action: Annotated[str | None, typer.Option(
        help="only this action, e.g. project.create or member.add")] = None,
    target_id: Annotated[str | None, typer.Option(help="only changes to this object id")] = None,
    target_type: Annotated[str | None, typer.Option(
        help="only changes to this kind of object, e.g. project or invoice")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="only changes by actors whose email contains this (any case)")] = None,
    since: Annotated[str | None, typer.Option(
        help="only changes at or after this time, e.g. 2026-11-01T00:00:00Z")] = None,
    until: Annotated[str | None, typer.Option(
        help="only changes before this time, e.g. 2026-12-01T00:00:00Z")] = None,
    limit: Annotated[int, typer.Option(min=1, help="show at most this many")] = 100,
    oldest_first: Annotated[bool, typer.Option(
        "--oldest-first", help="start from the oldest change instead of the newest")] = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List changes, newest first (operators: all; org admins: their organizations')."""
    order = "oldest" if oldest_first else "newest"
    call_api(lambda c: collect(c.list_audit_events, limit, action=action, target_id=target_id,
                               order=order, actor=by, target_type=target_type, since=since,
                               until=until), output, COLUMNS)
