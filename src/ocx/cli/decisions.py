"""What the onboarding nouns share: an id argument, a note, a state filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from pydantic import BaseModel

from ocx.cli.calls import call_api
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.client import OcxClient
from ocx.domain.identity.onboarding_states import RequestState

IdArg = Annotated[str, typer.Argument(metavar="ID", help="its id (see the list command)",
                                      show_default=False)]
NoteOpt = Annotated[str, typer.Option(help="why; shown to the requester")]
StateOpt = Annotated[RequestState | None, typer.Option(case_sensitive=False,
                                                       help="only requests in this state")]
DECIDED_COLUMNS = ("state", "decided_by", "decided_at", "id")


def add_decision_commands(app: typer.Typer, what: str, who: str,
                          show: Callable[[OcxClient, str], BaseModel],
                          decide: Callable[[OcxClient, str, bool, str], BaseModel]) -> None:
    """Add ``show ID``, ``approve ID`` and ``deny ID`` for requests of kind ``what``."""

    @app.command("show", help=f"Show one {what}.")
    def show_one(row: IdArg, output: OutputOpt = OutputFormat.TABLE) -> None:
        call_api(lambda c: show(c, row), output)

    @app.command("approve", help=f"Approve a pending {what} ({who}).")
    def approve(row: IdArg, note: NoteOpt = "", output: OutputOpt = OutputFormat.TABLE) -> None:
        call_api(lambda c: decide(c, row, True, note), output)

    @app.command("deny", help=f"Deny a pending {what} ({who}).")
    def deny(row: IdArg, note: NoteOpt = "", output: OutputOpt = OutputFormat.TABLE) -> None:
        call_api(lambda c: decide(c, row, False, note), output)
