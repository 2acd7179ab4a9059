"""``ocx user``: people with accounts on the exchange."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt

app = typer.Typer(help="Users: the people with accounts on the exchange.", no_args_is_help=True)

COLUMNS = ("email", "name", "is_operator", "is_active", "id")
UserArg = Annotated[str, typer.Argument(help="email, id, or 'me'", show_default=False)]
NameOpt = Annotated[str | None, typer.Option(help="the person's full name")]
PasswordOpt = Annotated[bool, typer.Option(
    "--password", help="ask for a password, for signing in with `ocx login --email`")]


def ask_password(wanted: bool) -> str | None:
    """Prompt twice for a new password if ``wanted``."""
    if not wanted:
        return None
    return str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="the person's email", show_default=False)],
    name: NameOpt = None,
    org: Annotated[str | None, typer.Option(
        "--org", help="organization (name or id) to affiliate the user with")] = None,
    password: PasswordOpt = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create a user (operators; org admins within their organization)."""
    secret = ask_password(password)
    call_api(lambda c: c.create_user(email, name=name, password=secret, organization=org),
             output, COLUMNS)


@app.command("list")
def list_users(
    email: Annotated[str | None, typer.Option(help="only emails starting with this")] = None,
    limit: LimitOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the users you may see (operators: all; org admins: their organizations')."""
    call_api(lambda c: collect(c.list_users, limit, email=email), output, COLUMNS)


@app.command("show")
def show_user(user: UserArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one user."""
    call_api(lambda c: c.get_user(user), output)


@app.command("update")
def update_user(
    user: UserArg,
    name: NameOpt = None,
    password: PasswordOpt = False,
    active: Annotated[bool | None, typer.Option(
        "--active/--inactive", help="(de)activate the account (operators)")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Change a user's name or password; operators also (de)activate accounts."""
    secret = ask_password(password)
    call_api(lambda c: c.update_user(user, name=name, password=secret, is_active=active), output)
