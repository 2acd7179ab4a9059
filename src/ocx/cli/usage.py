"""``ocx usage``: what a project used, recorded from its providers' events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from ocx.cli.calls import connect
from ocx.cli.output import OutputFormat, OutputOpt, show
from ocx.cli.params import parse_expiry

app = typer.Typer(help="Usage: what projects used, from provider events.", no_args_is_help=True)


@app.command("show")
def show_usage(
    project: Annotated[str, typer.Option(help="the project (ORG:NAME or id)",
                                         show_default=False)],
    start: Annotated[datetime, typer.Option("--from", parser=parse_expiry, metavar="WHEN",
                                            help="start: a date or ISO 8601 time",
                                            show_default=False)],
    end: Annotated[datetime, typer.Option("--to", parser=parse_expiry, metavar="WHEN",
                                          help="end (excluded)", show_default=False)],
    spans: Annotated[bool, typer.Option("--spans", help="list every span, not only totals")]
    = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """A project's usage per meter in [--from, --to) (its members, org admins, operators)."""
    with connect() as client:
        report = client.project_usage(project, start, end)
    if output is OutputFormat.JSON:
        show(report, output)
    elif spans:
        show(report.spans, output, ("resource_kind", "resource_id", "meter", "quantity", "unit",
                                    "started_at", "ended_at", "open"))
    else:
        show(report.totals, output, ("meter", "quantity", "unit"))
