"""``ocx login``, ``ocx logout`` and ``ocx whoami``: the CLI's own session with a server."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from ocx.cli import calls
from ocx.cli.calls import connect
from ocx.cli.output import OutputFormat, OutputOpt, fail, print_record, show
from ocx.cli.profile import SavedLogin, client_settings, read_saved, write_saved
from ocx.cli.tokens import default_token_name
from ocx.client import ClientError, server_url


def _login_with_password(url: str, email: str) -> SavedLogin:
    """Ask for the password and exchange it for a new token on ``url``."""
    password = str(typer.prompt("Password", hide_input=True))
    with connect(url=url, need_token=False) as client:
        created = client.login(email, password, token_name=default_token_name())
    return SavedLogin(url=url, token=created.token, token_id=created.id)


def _wait(seconds: float) -> None:
    """Pause between polls of a device login (tests replace it)."""
    time.sleep(seconds)


def _login_with_sso(url: str, provider: str) -> SavedLogin:
    """Sign in at an institution's identity provider with the device flow: the person
    confirms a code in any browser while this command waits."""
    with connect(url=url, need_token=False) as client:
        started = client.start_device_login(provider)
        link = started.verification_uri_complete or started.verification_uri
        typer.echo(f"Open {link} in a browser, sign in, and confirm the code "
                   f"{started.user_code}.", err=True)
        deadline = time.monotonic() + started.expires_in
        while time.monotonic() < deadline:
            _wait(started.interval)
            result = client.poll_device_login(provider, started.device_code,
                                              default_token_name())
            if result.token is not None:
                return SavedLogin(url=url, token=result.token.token, token_id=result.token.id)
    fail("the sign-in was not confirmed in time; run `ocx login --sso` again", 1)


def login(
    email: Annotated[str | None, typer.Option(
        help="your account's email; the password is asked for")] = None,
    sso: Annotated[str | None, typer.Option(
        help="sign in with this institution's identity provider (a device login)")] = None,
    token: Annotated[str | None, typer.Option(
        help="save this existing API token instead of signing in with a password")] = None,
    url: Annotated[str | None, typer.Option(
        help="the OCX server (default: OCX_URL, the saved one, or http://127.0.0.1:8080)")
    ] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Sign in to an OCX server and save its URL and your token for later commands."""
    if email and token:
        fail("give --email or --token, not both", 2)
    if sso and (email or token):
        fail("--sso signs in at your institution: give it without --email or --token", 2)
    target = _server(url)
    if token:
        saved = SavedLogin(url=target, token=token)
    elif sso:
        saved = _login_with_sso(target, sso)
    else:
        saved = _login_with_password(target, email or str(typer.prompt("Email")))
    with connect(url=target, token=saved.token) as client:
        me = client.me()
    previous = read_saved()
    path = write_saved(saved)
    if previous.token_id and previous.token != saved.token:
        _revoke_quietly(previous)  # the token an earlier `ocx login --email` made
    if output is OutputFormat.JSON:
        show(me, output)
    else:
        typer.echo(f"logged in to {target} as {me.user.email}; saved in {path}")
    if os.environ.get("OCX_TOKEN"):
        typer.echo("note: OCX_TOKEN is set and overrides the saved token", err=True)


def _server(url: str | None) -> str:
    """The server to log in to, normalized; exits 2 on a malformed URL."""
    try:
        return server_url(url or client_settings().url)
    except ValueError as exc:
        fail(str(exc), 2)


def logout() -> None:
    """Forget the saved token; a token that `ocx login --email` created is also revoked."""
    saved = read_saved()
    if not saved.token:
        typer.echo("not logged in")
        return
    if saved.token_id and saved.url:
        _revoke_quietly(saved)
    write_saved(SavedLogin(url=saved.url))
    typer.echo(f"logged out of {saved.url}")


def _revoke_quietly(saved: SavedLogin) -> None:
    """Revoke the saved token on the server; warn, and carry on, if that fails."""
    try:
        with calls.open_client(str(saved.url), saved.token,
                               client_settings().timeout_s) as client:
            client.revoke_token(str(saved.token_id))
    except (ClientError, ValueError) as exc:
        typer.echo(f"warning: could not revoke the token on the server: {exc}", err=True)


def whoami(output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show who you are on the server, with your organizations and projects and roles."""
    with connect() as client:
        me = client.me()
        url = client.url
    if output is OutputFormat.JSON:
        show(me, output)
        return
    print_record({
        "server": url, "email": me.user.email, "name": me.user.name,
        "operator": me.user.is_operator,
        "organizations": ", ".join(f"{org} ({role})" for org, role in me.organizations.items()),
        "projects": ", ".join(f"{name} ({role})" for name, role in me.projects.items()),
    })


def register(app: typer.Typer) -> None:
    """Add login, logout and whoami to the main ``ocx`` app."""
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
