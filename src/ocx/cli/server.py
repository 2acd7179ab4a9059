"""Commands that run on the server itself and touch the database directly:
``ocx serve``, ``ocx worker``, ``ocx db``, ``ocx admin``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from ocx.config import Settings, describe_validation_error
from ocx.logging import configure_logging

db_app = typer.Typer(help="Database schema management (runs on the server).", no_args_is_help=True)
admin_app = typer.Typer(help="Server-side administration, directly on the database.",
                        no_args_is_help=True)


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        # Never echo the values: OCX_SECRET_KEY or driver passwords may be among them.
        typer.secho(f"error: invalid settings: {describe_validation_error(exc)}",
                    err=True, fg="red")
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level, settings.log_json)
    return settings


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "heads") -> None:
    """Create or migrate the database schema (safe to run again)."""
    from ocx.persistence.db import engine_from_settings
    from ocx.persistence.migrate import current_revision, upgrade

    settings = _settings()
    engine = engine_from_settings(settings)
    upgrade(engine, revision)
    typer.echo(f"database at revision {current_revision(engine)}")
    engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and the newest one this OCX ships."""
    from ocx.persistence.db import engine_from_settings
    from ocx.persistence.migrate import current_revision, head_revision

    engine = engine_from_settings(_settings())
    typer.echo(f"current: {current_revision(engine) or 'none'}  head: {head_revision()}")
    engine.dispose()


@admin_app.command("bootstrap")
def admin_bootstrap(
    email: Annotated[str, typer.Option("--email", help="the first operator's email")],
    if_missing: Annotated[bool, typer.Option(
        "--if-missing", help="do nothing if an operator already exists")] = False,
    output: Annotated[str, typer.Option("-o", "--output", help="table or json")] = "table",
) -> None:
    """Create the first operator and print an API token for them (shown once)."""
    from ocx.domain.identity import service
    from ocx.persistence.migrate import current_revision
    from ocx.runtime import build_runtime

    runtime = build_runtime(_settings())
    if current_revision(runtime.engine) is None:
        typer.secho("error: the database has no schema; run `ocx db upgrade` first",
                    err=True, fg="red")
        raise typer.Exit(1)
    with runtime.sessions() as session, session.begin():
        if if_missing and service.has_operator(session):
            typer.echo("an operator already exists; nothing done", err=True)
            return
        user, secret = service.bootstrap_operator(
            session, email, runtime.settings.token_default_ttl_days)
    runtime.close()
    if output == "json":
        typer.echo(json.dumps({"token": secret, "email": user.email}))
    else:
        typer.echo(f"operator {user.email} is ready. API token (shown once):\n{secret}")


@admin_app.command("policy")
def admin_policy() -> None:
    """Print who may take each API action (the policy table, as Markdown)."""
    from ocx.domain.policy import render_markdown

    typer.echo(render_markdown(), nl=False)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    workers: Annotated[int | None, typer.Option(
        help="worker threads for operations (default OCX_WORKERS; 0 = none)")] = None,
) -> None:
    """Serve the API and web UI, with embedded worker threads (the single-process mode)."""
    import uvicorn

    from ocx.api.app import create_app

    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    app = create_app(settings)
    typer.echo(f"OCX serving on http://{host}:{port} (workers: {settings.workers})", err=True)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def worker(
    threads: Annotated[int, typer.Option(help="operations run at once in this process")] = 2,
    periodic: Annotated[bool, typer.Option(
        help="also run periodic tasks (reconcilers, expiry, sweeps)")] = True,
) -> None:
    """Run operations from the journal (production: run as many as you like)."""
    from ocx.workers.runner import run_worker

    run_worker(_settings(), threads=threads, periodic=periodic)


def register(app: typer.Typer) -> None:
    """Add the server-side commands to the main ``ocx`` app."""
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(db_app, name="db")
    app.add_typer(admin_app, name="admin")
