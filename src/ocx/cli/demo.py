"""``ocx demo seed``: fill a development database with the demo (runs on the server)."""

from __future__ import annotations

import json
import logging

import typer

from ocx.cli.output import OutputFormat, OutputOpt

app = typer.Typer(help="The demo of `make run` (development and test environments only).",
                  no_args_is_help=True)


@app.command("seed")
def seed_command(output: OutputOpt = OutputFormat.TABLE) -> None:
    """Create the demo's organizations, people, offerings, usage and invoices, once.

    A database that has the demo already is left as it is. Refused in production.
    """
    from ocx.cli.server import _settings
    from ocx.demo import seed
    from ocx.errors import OcxError
    from ocx.persistence.migrate import current_revision
    from ocx.runtime import build_runtime

    # Wake-ups stay in this process: the seed runs every operation it journals itself.
    runtime = build_runtime(_settings().model_copy(update={"task_broker_url": "memory://"}))
    # The seed runs dozens of operations; their one-line-each log would bury the accounts.
    logging.getLogger("ocx.operations").setLevel(logging.WARNING)
    try:
        if current_revision(runtime.engine) is None:
            typer.secho("error: the database has no schema; run `ocx db upgrade` first",
                        err=True, fg="red")
            raise typer.Exit(1)
        try:
            result = seed(runtime)
        except OcxError as exc:
            typer.secho(f"error: {exc.message}", err=True, fg="red")
            raise typer.Exit(1) from exc
    finally:
        runtime.close()
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({"created": result.created, "accounts": result.accounts,
                               "password": result.password if result.created else None}))
    elif not result.created:
        typer.echo("the demo is in this database already; nothing done", err=True)
    else:
        typer.echo(_banner(result.accounts, result.password))


def _banner(accounts: dict[str, str], password: str) -> str:
    lines = ["Demo data created. Sign in on the web page with one of these accounts;",
             f"every demo account's password is:  {password}", ""]
    lines += [f"   {role:<11} {email}" for role, email in accounts.items()]
    lines += ["", "(more people are in the demo, e.g. ken.watanabe@riverside.example.org, "
              "PI of riverside:protein-folding)"]
    return "\n".join(lines)
