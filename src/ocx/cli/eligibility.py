"""``ocx pi-eligibility``: who may lead projects (be a PI) of an organization."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.decisions import DECIDED_COLUMNS, IdArg, StateOpt, add_decision_commands
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt

app = typer.Typer(help="PI eligibility: from an affiliation, or asked for and approved.",
                  no_args_is_help=True)

COLUMNS = ("organization", "email", "source", "reason", *DECIDED_COLUMNS)
OrgArg = Annotated[str, typer.Argument(metavar="ORGANIZATION", help="organization name or id",
                                       show_default=False)]


@app.command("request")
def request_eligibility(
    organization: OrgArg,
    reason: Annotated[str, typer.Option(help="your position, what you will lead")] = "",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Ask to become eligible to lead projects of an organization you belong to."""
    call_api(lambda c: c.request_pi_eligibility(organization, reason), output)


@app.command("list")
def list_eligibility(state: StateOpt = None, limit: LimitOpt = None,
                     output: OutputOpt = OutputFormat.TABLE) -> None:
    """List eligibility records and requests you may see."""
    call_api(lambda c: collect(c.list_pi_eligibility, limit, state=state), output, COLUMNS)


add_decision_commands(
    app, "PI eligibility request", "operators, the organization's admins",
    show=lambda c, row: c.get_pi_eligibility(row),
    decide=lambda c, row, approve, note: c.decide_pi_eligibility(row, approve=approve,
                                                                 note=note))


@app.command("revoke")
def revoke_eligibility(row: IdArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Withdraw someone's eligibility (projects they lead stay theirs)."""
    call_api(lambda c: c.revoke_pi_eligibility(row), output, done=f"revoked {row}")
