"""The ``ocx`` command: assembles every noun's sub-commands."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx import __version__
from ocx.cli import (
    allocations,
    audit,
    auth,
    billing,
    budgets,
    demo,
    eligibility,
    images,
    invitations,
    invoices,
    join_requests,
    leases,
    marketplace,
    members,
    networks,
    nodes,
    offers,
    onboarding_policy,
    operations,
    orgs,
    project_requests,
    projects,
    scim_tokens,
    server,
    sites,
    switches,
    terms,
    tokens,
    usage,
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
app.add_typer(usage.app, name="usage")
app.add_typer(billing.price_book_app, name="price-book")
app.add_typer(billing.credit_app, name="credit")
app.add_typer(invoices.app, name="invoice")
app.add_typer(billing.report_app, name="report")
app.add_typer(invitations.app, name="invitation")
app.add_typer(join_requests.app, name="join-request")
app.add_typer(eligibility.app, name="pi-eligibility")
projects.app.add_typer(project_requests.app, name="request")
app.add_typer(terms.app, name="terms")
app.add_typer(scim_tokens.app, name="scim-token")
app.add_typer(onboarding_policy.app, name="onboarding-policy")
app.add_typer(budgets.app, name="budget")
app.add_typer(images.app, name="image")
app.add_typer(demo.app, name="demo")
server.register(app)

if __name__ == "__main__":
    app()
