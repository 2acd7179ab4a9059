"""``ocx onboarding-policy``: which affiliations make a PI, and self-service projects."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api
from ocx.cli.eligibility import OrgArg
from ocx.cli.output import OutputFormat, OutputOpt

app = typer.Typer(help="An organization's onboarding policy.", no_args_is_help=True)


@app.command("show")
def show_policy(organization: OrgArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show the organization's onboarding policy."""
    call_api(lambda c: c.onboarding_policy(organization), output)


@app.command("set")
def set_policy(
    organization: OrgArg,
    pi_affiliation: Annotated[list[str] | None, typer.Option(
        help="a scoped affiliation that makes a PI (repeat): faculty@campus.example.org")
    ] = None,
    self_service: Annotated[bool, typer.Option(
        help="approve eligible PIs' project requests at once")] = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Replace the organization's onboarding policy (operators, org admins)."""
    call_api(lambda c: c.set_onboarding_policy(
        organization, pi_affiliations=pi_affiliation or [],
        self_service_projects=self_service), output)
