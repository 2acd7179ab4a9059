"""``ocx site``: places with switches and nodes, and the VLAN pool of their networks."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt, SlugArg

app = typer.Typer(help="Sites: where switches and nodes are, and their VLAN pools.",
                  no_args_is_help=True)

COLUMNS = ("name", "vlan_min", "vlan_max", "networks", "description", "id")
SiteArg = Annotated[str, typer.Argument(help="site name or id", show_default=False)]


def parse_vlans(value: str) -> tuple[int, int]:
    """``100-199`` as (100, 199)."""
    first, sep, last = value.partition("-")
    try:
        return int(first), int(last if sep else first)
    except ValueError as exc:
        raise typer.BadParameter("expected a VLAN range such as 100-199") from exc


@app.command("create")
def create_site(
    name: SlugArg,
    vlans: Annotated[str, typer.Option(help="the pool of network VLAN ids, e.g. 100-199",
                                       show_default=False)],
    description: Annotated[str | None, typer.Option(help="what and where it is")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create a site and its VLAN pool (operators)."""
    low, high = parse_vlans(vlans)
    call_api(lambda c: c.create_site(name, vlan_min=low, vlan_max=high,
                                     description=description), output, COLUMNS)


@app.command("list")
def list_sites(limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE) -> None:
    """List the sites."""
    call_api(lambda c: collect(c.list_sites, limit), output, COLUMNS)


@app.command("show")
def show_site(site: SiteArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one site."""
    call_api(lambda c: c.get_site(site), output)


@app.command("delete")
def delete_site(site: SiteArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Delete a site with nothing left in it (operators)."""
    call_api(lambda c: c.delete_site(site), output, done=f"deleted site {site}")
