"""``ocx project request``: ask for a new project as its PI; policy or admins decide."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.decisions import DECIDED_COLUMNS, StateOpt, add_decision_commands
from ocx.cli.eligibility import OrgArg
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt, SlugArg

app = typer.Typer(help="Requests for new projects, led by the requester as PI.",
                  no_args_is_help=True)

COLUMNS = ("organization", "name", "requested_by", "project_id", *DECIDED_COLUMNS)


@app.command("create")
def create_project_request(
    organization: OrgArg,
    name: SlugArg,
    description: Annotated[str, typer.Option(help="what the project is")] = "",
    reason: Annotated[str, typer.Option(help="why you need it")] = "",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Ask for a new project (eligible PIs); approved at once where policy allows."""
    call_api(lambda c: c.request_project(organization, name, description=description,
                                         reason=reason), output)


@app.command("list")
def list_project_requests(state: StateOpt = None, limit: LimitOpt = None,
                          output: OutputOpt = OutputFormat.TABLE) -> None:
    """List project requests you may see."""
    call_api(lambda c: collect(c.list_project_requests, limit, state=state), output, COLUMNS)


add_decision_commands(
    app, "project request", "operators, the organization's admins",
    show=lambda c, row: c.get_project_request(row),
    decide=lambda c, row, approve, note: c.decide_project_request(row, approve=approve,
                                                                  note=note))
