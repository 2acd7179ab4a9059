"""``ocx member``: who is in a project, with which role (pi, manager, member) and until when."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt, fail
from ocx.cli.params import ExpiresOpt, LimitOpt, MemberArg
from ocx.domain.identity.roles import ProjectRole

app = typer.Typer(help="Project members and their roles: pi, manager, member.",
                  no_args_is_help=True)

COLUMNS = ("email", "name", "role", "expires_at", "user_id")
ROLE_HELP = "pi: leads the project; manager: manages members; member: uses resources"
ProjectArg = Annotated[str, typer.Argument(help="project name or id", show_default=False)]


@app.command("add")
def add_member(
    project: ProjectArg,
    email: MemberArg,
    role: Annotated[ProjectRole, typer.Option(case_sensitive=False, help=ROLE_HELP)
                    ] = ProjectRole.MEMBER,
    expires: ExpiresOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Add a user to a project (PI, manager, org admins, operators)."""
    call_api(lambda c: c.add_member(project, email, role=role, expires_at=expires), output)


@app.command("list")
def list_members(project: ProjectArg, limit: LimitOpt = None,
                 output: OutputOpt = OutputFormat.TABLE) -> None:
    """List a project's members and their roles."""
    call_api(lambda c: collect(partial(c.list_members, project), limit), output, COLUMNS)


@app.command("update")
def update_member(
    project: ProjectArg,
    email: MemberArg,
    role: Annotated[ProjectRole | None, typer.Option(case_sensitive=False, help=ROLE_HELP)
                    ] = None,
    expires: ExpiresOpt = None,
    no_expiry: Annotated[bool, typer.Option(
        "--no-expiry", help="make the membership open-ended")] = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Change a member's role or expiry."""
    if expires and no_expiry:
        fail("give --expires or --no-expiry, not both", 2)
    call_api(lambda c: c.update_member(project, email, role=role, expires_at=expires,
                                       clear_expiry=no_expiry), output)


@app.command("remove")
def remove_member(project: ProjectArg, email: MemberArg,
                  output: OutputOpt = OutputFormat.TABLE) -> None:
    """Remove a user from a project."""
    call_api(lambda c: c.remove_member(project, email), output,
             done=f"removed {email} from project {project}")
