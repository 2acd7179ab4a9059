"""``ocx terms``: read and accept the terms of use (API calls need them accepted)."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, connect
from ocx.cli.output import OutputFormat, OutputOpt, fail, show

app = typer.Typer(help="The terms of use: read them, accept them.", no_args_is_help=True)


@app.command("show")
def show_terms(output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show the terms in force, where to read them, and whether you accepted them."""
    call_api(lambda c: c.terms(), output)


@app.command("accept")
def accept_terms(
    version: Annotated[str | None, typer.Option(
        help="the version you read (default: the one in force, shown first)")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Accept the terms of use in force."""
    with connect() as client:
        current = client.terms()
        if not current.version:
            fail("this server has no terms of use to accept", 1)
        if version is None and output is OutputFormat.TABLE:
            typer.echo(f"accepting the terms of use, version {current.version}"
                       + (f" ({current.url})" if current.url else ""), err=True)
        status = client.accept_terms(version or current.version)
    show(status, output)
