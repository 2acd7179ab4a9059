"""``ocx lease``: a project's time on a node, under an owner's offer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt, parse_expiry

app = typer.Typer(help="Leases: a project's time on a node; they never overlap.",
                  no_args_is_help=True)

COLUMNS = ("id", "node", "project", "state", "starts_at", "ends_at")
LeaseArg = Annotated[str, typer.Argument(metavar="ID", help="the lease's id", show_default=False)]
RELATIVE = re.compile(r"^\+(\d+)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_when(value: str) -> datetime:
    """A time: ``+30m``, ``+4h``, ``+2d`` from now, a date, or an ISO 8601 time (UTC if no
    zone)."""
    relative = RELATIVE.match(value.strip())
    if relative:
        amount, unit = int(relative.group(1)), UNITS[relative.group(2)]
        return datetime.now(UTC) + timedelta(**{unit: amount})
    return parse_expiry(value)


WhenOpt = Annotated[datetime, typer.Option(
    parser=parse_when, metavar="WHEN", help="+4h, +2d, a date or an ISO 8601 time",
    show_default=False)]
StartOpt = Annotated[datetime | None, typer.Option(
    "--start", parser=parse_when, metavar="WHEN", help="default: now")]


@app.command("create")
def create_lease(
    offer: Annotated[str, typer.Option(help="the offer's id", show_default=False)],
    project: Annotated[str, typer.Option(help="your project (ORG:NAME or id)",
                                         show_default=False)],
    end: Annotated[datetime, typer.Option("--end", parser=parse_when, metavar="WHEN",
                                          help="+4h, +2d, a date or an ISO 8601 time",
                                          show_default=False)],
    start: StartOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Lease a node under an offer (the project's PI or managers)."""
    call_api(lambda c: c.create_lease(offer=offer, project=project, starts_at=start,
                                      ends_at=end), output, COLUMNS)


@app.command("list")
def list_leases(
    project: Annotated[str | None, typer.Option(help="only this project's")] = None,
    node: Annotated[str | None, typer.Option(help="only this node's")] = None,
    state: Annotated[str | None, typer.Option(
        help="created, active, ending, expired or cancelled")] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the leases of your projects and of your organization's nodes."""
    call_api(lambda c: collect(c.list_leases, limit, project=project, node=node, state=state),
             output, COLUMNS)


@app.command("show")
def show_lease(lease: LeaseArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one lease."""
    call_api(lambda c: c.get_lease(lease), output)


@app.command("cancel")
def cancel_lease(lease: LeaseArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Cancel a future lease, or end an active one now (the node is cleaned and returned)."""
    call_api(lambda c: c.cancel_lease(lease), output)


@app.command("extend")
def extend_lease(
    lease: LeaseArg,
    end: Annotated[datetime, typer.Option("--end", parser=parse_when, metavar="WHEN",
                                          help="the new end", show_default=False)],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Move a lease's end later (within its offer, before the node's next lease)."""
    call_api(lambda c: c.extend_lease(lease, end), output)


@app.command("reclaim")
def reclaim_lease(
    lease: LeaseArg,
    reason: Annotated[str, typer.Option(help="why (kept in the audit trail)",
                                        show_default=False)],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """End a lease now to give the node back to its owner (operators)."""
    call_api(lambda c: c.reclaim_lease(lease, reason), output)
