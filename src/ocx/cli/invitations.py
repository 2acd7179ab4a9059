"""``ocx invitation``: single-use, expiring links into a project, mailed to an address."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.decisions import IdArg
from ocx.cli.members import ROLE_HELP, ProjectArg
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import ExpiresOpt, LimitOpt, MemberArg
from ocx.domain.identity.roles import ProjectRole

app = typer.Typer(help="Invitations into projects by single-use, expiring links.",
                  no_args_is_help=True)

COLUMNS = ("email", "role", "state", "expires_at", "invited_by", "id")


@app.command("create")
def create_invitation(
    project: ProjectArg,
    email: MemberArg,
    role: Annotated[ProjectRole, typer.Option(case_sensitive=False, help=ROLE_HELP)
                    ] = ProjectRole.MEMBER,
    expires: ExpiresOpt = None,
    days: Annotated[int | None, typer.Option(
        min=1, max=30, help="how long the link works (default: 7 days)")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Invite an email address into a project; the link is mailed to it (PI, manager)."""
    call_api(lambda c: c.create_invitation(project, email, role=role,
                                           membership_expires_at=expires,
                                           expires_in_days=days), output)


@app.command("list")
def list_invitations(project: ProjectArg, limit: LimitOpt = None,
                     output: OutputOpt = OutputFormat.TABLE) -> None:
    """List a project's invitations: pending, accepted, revoked or expired."""
    call_api(lambda c: collect(partial(c.list_invitations, project), limit), output, COLUMNS)


@app.command("revoke")
def revoke_invitation(project: ProjectArg, invitation: IdArg,
                      output: OutputOpt = OutputFormat.TABLE) -> None:
    """Revoke a pending invitation; its link stops working at once."""
    call_api(lambda c: c.revoke_invitation(project, invitation), output)


@app.command("accept")
def accept_invitation(
    token: Annotated[str, typer.Argument(
        metavar="TOKEN", help="the link, or its last part (ocxinv_...)", show_default=False)],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Accept an invitation sent to your address; you join the project."""
    secret = token.rstrip("/").rpartition("/")[2]
    call_api(lambda c: c.accept_invitation(secret), output)
