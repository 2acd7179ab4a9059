"""The ``ocx`` command: assembles every noun's sub-commands."""

from __future__ import annotations

import typer

from ocx.cli import server

app = typer.Typer(
    name="ocx",
    help="OCX, an Open Cloud eXchange. Set OCX_URL and OCX_TOKEN (or run `ocx login`).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
server.register(app)

if __name__ == "__main__":
    app()
