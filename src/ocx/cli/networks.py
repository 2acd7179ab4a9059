"""``ocx network``: a project's layer-2 networks (a VLAN each) for its bare-metal nodes."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt, SlugArg

app = typer.Typer(help="Networks: a project's VLANs, to connect its leased nodes to.",
                  no_args_is_help=True)

COLUMNS = ("name", "project", "site", "vlan", "id")
NetworkArg = Annotated[str, typer.Argument(help="network id, name, or PROJECT/NAME",
                                           show_default=False)]


@app.command("create")
def create_network(
    name: SlugArg,
    project: Annotated[str, typer.Option(help="owner project (ORG:NAME or id)",
                                         show_default=False)],
    site: Annotated[str, typer.Option(help="the site of the nodes", show_default=False)],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create a network with a VLAN from the site's pool (PI, managers, org admins)."""
    call_api(lambda c: c.create_network(name, project=project, site=site), output, COLUMNS)


@app.command("list")
def list_networks(
    project: Annotated[str | None, typer.Option(help="only this project's")] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the networks of your projects."""
    call_api(lambda c: collect(c.list_networks, limit, project=project), output, COLUMNS)


@app.command("show")
def show_network(network: NetworkArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one network."""
    call_api(lambda c: c.get_network(network), output)


@app.command("delete")
def delete_network(network: NetworkArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Delete a network no node is connected to (its VLAN goes back to the pool)."""
    call_api(lambda c: c.delete_network(network), output, done=f"deleted network {network}")
