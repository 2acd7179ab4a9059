"""``ocx offer``: an owner lends a node, or any node of a class, for a time window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.leases import StartOpt, parse_when
from ocx.cli.output import OutputFormat, OutputOpt, fail
from ocx.cli.params import LimitOpt

app = typer.Typer(help="Offers: nodes their owners lend, for a time, to all or to a project.",
                  no_args_is_help=True)

COLUMNS = ("id", "owner", "node", "resource_class", "project", "starts_at", "ends_at", "state")
OfferArg = Annotated[str, typer.Argument(metavar="ID", help="the offer's id", show_default=False)]


@app.command("create")
def create_offer(
    end: Annotated[datetime, typer.Option("--end", parser=parse_when, metavar="WHEN",
                                          help="+30d, a date or an ISO 8601 time",
                                          show_default=False)],
    node: Annotated[str | None, typer.Option(help="offer this node")] = None,
    resource_class: Annotated[str | None, typer.Option(
        help="or any of your nodes of this class (with --owner and --site)")] = None,
    owner: Annotated[str | None, typer.Option(help="the lending organization")] = None,
    site: Annotated[str | None, typer.Option(help="the site")] = None,
    project: Annotated[str | None, typer.Option(help="only to this project (default: all)")]
    = None,
    start: StartOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Offer a node or a resource class (the owner's org admins)."""
    if (node is None) == (resource_class is None):
        fail("give --node or --resource-class", 2)
    call_api(lambda c: c.create_offer(node=node, resource_class=resource_class, owner=owner,
                                      site=site, project=project, starts_at=start,
                                      ends_at=end), output, COLUMNS)


@app.command("list")
def list_offers(
    node: Annotated[str | None, typer.Option(help="only this node's")] = None,
    resource_class: Annotated[str | None, typer.Option(help="only this class")] = None,
    all_: Annotated[bool, typer.Option("--all", help="also withdrawn and ended ones")] = False,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the current offers open to you."""
    call_api(lambda c: collect(c.list_offers, limit, node=node, resource_class=resource_class,
                               include_past=all_ or None), output, COLUMNS)


@app.command("show")
def show_offer(offer: OfferArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one offer."""
    call_api(lambda c: c.get_offer(offer), output)


@app.command("delete")
def withdraw_offer(offer: OfferArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Withdraw an offer: no new leases under it (the leases made stay)."""
    call_api(lambda c: c.withdraw_offer(offer), output)
