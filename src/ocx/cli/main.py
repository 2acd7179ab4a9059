"""The ``ocx`` command: assembles every noun's sub-commands."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx import __version__
from ocx.cli import (
    allocations,
    audit,
    auth,
    leases,
    marketplace,
    members,
    networks,
    nodes,
    offers,
    operations,
    orgs,
    projects,
    server,
    sites,
    switches,
    tokens,
    users,
)

app = typer.Typer(
    name="ocx",
    help="OCX, an Open Cloud eXchange. Set OCX_URL and OCX_TOKEN (or run `ocx login`).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"ocx {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version, help="print the version and exit")
    ] = False,
) -> None:
    """OCX, an Open Cloud eXchange. Set OCX_URL and OCX_TOKEN (or run `ocx login`)."""


auth.register(app)
app.add_typer(users.app, name="user")
app.add_typer(orgs.app, name="org")
app.add_typer(projects.app, name="project")
app.add_typer(members.app, name="member")
app.add_typer(tokens.app, name="token")
app.add_typer(operations.app, name="operation")
app.add_typer(audit.app, name="audit")
app.add_typer(marketplace.provider_app, name="provider")
app.add_typer(marketplace.offering_app, name="offering")
app.add_typer(marketplace.plan_app, name="plan")
app.add_typer(allocations.app, name="allocation")
app.add_typer(sites.app, name="site")
app.add_typer(switches.app, name="switch")
app.add_typer(nodes.app, name="node")
app.add_typer(networks.app, name="network")
app.add_typer(offers.app, name="offer")
app.add_typer(leases.app, name="lease")
server.register(app)

if __name__ == "__main__":
    app()
