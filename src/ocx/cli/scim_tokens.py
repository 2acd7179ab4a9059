"""``ocx scim-token``: bearer tokens for an institution's SCIM provisioning client."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, connect
from ocx.cli.decisions import IdArg
from ocx.cli.eligibility import OrgArg
from ocx.cli.output import OutputFormat, OutputOpt, show

app = typer.Typer(help="SCIM tokens for institutions' provisioning clients (operators).",
                  no_args_is_help=True)

COLUMNS = ("name", "prefix", "created_at", "revoked_at", "last_used_at", "id")


@app.command("create")
def create_scim_token(
    organization: OrgArg,
    name: Annotated[str, typer.Option(help="which client uses it")] = "scim",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create a SCIM token for the organization; its secret is shown now and never again."""
    with connect() as client:
        created = client.create_scim_token(organization, name)
    show(created, output)
    if output is OutputFormat.TABLE:
        typer.echo("hand the token over securely now: it is not shown again", err=True)


@app.command("list")
def list_scim_tokens(organization: OrgArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """List the organization's SCIM tokens (never their secrets)."""
    call_api(lambda c: c.list_scim_tokens(organization), output, COLUMNS)


@app.command("revoke")
def revoke_scim_token(organization: OrgArg, token: IdArg,
                      output: OutputOpt = OutputFormat.TABLE) -> None:
    """Revoke a SCIM token: the provisioning client is cut off at once."""
    call_api(lambda c: c.revoke_scim_token(organization, token), output)
