"""``ocx token``: API tokens for scripts and other machines."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.output import OutputFormat, OutputOpt, show
from ocx.cli.params import LimitOpt

app = typer.Typer(help="API tokens: bearer credentials for the CLI and scripts.",
                  no_args_is_help=True)

COLUMNS = ("name", "prefix", "expires_at", "revoked_at", "last_used_at", "id")


def default_token_name() -> str:
    """A name that tells where a token was made: ``cli@<host name>``."""
    return f"cli@{socket.gethostname()}"[:100]


@app.command("create")
def create_token(
    name: Annotated[str | None, typer.Option(
        help="what the token is for (default: cli@<this host>)", show_default=False)] = None,
    expires_in_days: Annotated[int | None, typer.Option(
        min=1, max=3650, help="lifetime in days (default: the server's)")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create an API token for yourself; its secret is shown now and never again."""
    with connect() as client:
        created = client.create_token(name or default_token_name(),
                                      expires_in_days=expires_in_days)
    show(created, output)
    if output is OutputFormat.TABLE:
        typer.echo("copy the token now: it is not shown again", err=True)


@app.command("list")
def list_tokens(limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE) -> None:
    """List your tokens (never their secrets)."""
    call_api(lambda c: collect(c.list_tokens, limit), output, COLUMNS)


@app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(
        metavar="ID", help="the token's id (see `ocx token list`)", show_default=False)],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Revoke a token (yours; operators: anyone's); revoking twice is harmless."""
    call_api(lambda c: c.revoke_token(token_id), output)
