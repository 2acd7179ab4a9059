"""``ocx join-request``: ask to join a project; its PI or a manager decides."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.decisions import DECIDED_COLUMNS, IdArg, NoteOpt, StateOpt
from ocx.cli.members import ROLE_HELP, ProjectArg
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import ExpiresOpt, LimitOpt
from ocx.domain.identity.roles import ProjectRole

app = typer.Typer(help="Requests to join a project, decided by its PI or a manager.",
                  no_args_is_help=True)

COLUMNS = ("project", "email", "message", *DECIDED_COLUMNS)


@app.command("create")
def create_join_request(
    project: ProjectArg,
    message: Annotated[str, typer.Option(help="who you are, why you want to join")] = "",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Ask to join a project of an organization you belong to."""
    call_api(lambda c: c.create_join_request(project, message), output)


@app.command("list")
def list_join_requests(state: StateOpt = None, limit: LimitOpt = None,
                       output: OutputOpt = OutputFormat.TABLE) -> None:
    """List your join requests and those you may decide."""
    call_api(lambda c: collect(c.list_join_requests, limit, state=state), output, COLUMNS)


@app.command("show")
def show_join_request(request: IdArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one join request."""
    call_api(lambda c: c.get_join_request(request), output)


@app.command("approve")
def approve_join_request(
    request: IdArg,
    role: Annotated[ProjectRole, typer.Option(case_sensitive=False, help=ROLE_HELP)
                    ] = ProjectRole.MEMBER,
    expires: ExpiresOpt = None,
    note: NoteOpt = "",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Approve a join request: the requester becomes a member with ``--role``."""
    call_api(lambda c: c.decide_join_request(request, approve=True, note=note, role=role,
                                             expires_at=expires), output)


@app.command("deny")
def deny_join_request(request: IdArg, note: NoteOpt = "",
                      output: OutputOpt = OutputFormat.TABLE) -> None:
    """Deny a join request."""
    call_api(lambda c: c.decide_join_request(request, approve=False, note=note), output)
