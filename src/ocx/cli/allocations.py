"""``ocx allocation``: a project's share of an offering, from request to release."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.operations import poll, progress_report
from ocx.cli.output import OutputFormat, OutputOpt, fail, print_json
from ocx.cli.params import LimitOpt, parse_expiry
from ocx.client import OcxClient
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.operations.states import OperationState

app = typer.Typer(help="Allocations: a project's share of an offering, kept in line on the "
                       "provider.", no_args_is_help=True)

COLUMNS = ("project", "offering", "state", "quota", "ends_at", "id")
CHANGE_COLUMNS = ("kind", "state", "quota", "ends_at", "justification", "note", "id")
AllocArg = Annotated[str, typer.Argument(metavar="ALLOCATION", help="the allocation's id",
                                         show_default=False)]
WaitOpt = Annotated[bool, typer.Option(
    "--wait", help="wait until the provider has been updated (with progress)")]
ReasonOpt = Annotated[str, typer.Option(help="why; recorded and shown to the requester")]
EndsOpt = Annotated[datetime | None, typer.Option(
    parser=parse_expiry, metavar="DATE", help="when the allocation ends (date or ISO time)")]


def parse_quota(text: str | None) -> dict[str, int]:
    """``cores=8,ram_mib=16384`` as a mapping."""
    quota: dict[str, int] = {}
    for item in filter(None, (text or "").split(",")):
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise typer.BadParameter(f"{item!r}: expected COMPONENT=NUMBER")
        quota[name.strip()] = int(value)
    return quota


QuotaOpt = Annotated[str | None, typer.Option(
    help="COMPONENT=LIMIT,... e.g. cores=8,ram_mib=16384 (others get the defaults)")]


def wait_for(client: OcxClient, operation_id: object, timeout_s: float = 600.0
             ) -> OperationPublic:
    """Follow an operation to its end with progress; fail the command if it failed."""
    with progress_report() as report:
        op = poll(client, str(operation_id), timeout_s, 1.0, report)
    if op.state is OperationState.FAILED:
        fail(f"operation {op.id} failed: {op.last_error or 'no error recorded'}")
    if op.state is not OperationState.DONE:
        fail(f"operation {op.id} is still {op.state.value}; follow it with "
             f"`ocx operation wait {op.id}`", 124)
    return op


def _then(client: OcxClient, result: Any, wait: bool) -> Any:
    """After a call that may have started an operation: wait for it, then show the result."""
    if wait and getattr(result, "operation_id", None):
        wait_for(client, result.operation_id)
        return client.get_allocation(str(result.id))
    return result


@app.command("request")
def request_allocation(
    project: Annotated[str, typer.Option(help="project (ORG:NAME, name or id)",
                                         show_default=False)],
    offering: Annotated[str, typer.Option(help="offering (PROVIDER:NAME, name or id)",
                                          show_default=False)],
    quota: QuotaOpt = None,
    plan: Annotated[str | None, typer.Option(help="plan name (the only one by default)")
                    ] = None,
    ends_at: EndsOpt = None,
    justification: Annotated[str, typer.Option(help="why the project needs it")] = "",
    wait: WaitOpt = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Ask for an allocation for a project (PI, managers)."""
    body = {"project": project, "offering": offering, "quota": parse_quota(quota),
            "plan": plan, "justification": justification,
            "ends_at": ends_at.isoformat() if ends_at else None}
    call_api(lambda c: _then(c, c.request_allocation(body), wait), output)


@app.command("list")
def list_allocations(
    project: Annotated[str | None, typer.Option(help="only this project's")] = None,
    offering: Annotated[str | None, typer.Option(help="only this offering's")] = None,
    state: Annotated[str | None, typer.Option(help="only in this state")] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List allocations of your projects and of the offerings you run."""
    call_api(lambda c: collect(c.list_allocations, limit, project=project, offering=offering,
                               state=state), output, COLUMNS)


@app.command("show")
def show_allocation(allocation: AllocArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one allocation, with what its provider last reported."""
    call_api(lambda c: c.get_allocation(allocation), output)


@app.command("approve")
def approve(allocation: AllocArg, reason: ReasonOpt = "", wait: WaitOpt = False,
            output: OutputOpt = OutputFormat.TABLE) -> None:
    """Approve a request; the provider is then set up (the provider's admins)."""
    call_api(lambda c: _then(c, c.allocation_action(allocation, "approve",
                                                    {"reason": reason}), wait), output)


@app.command("deny")
def deny(allocation: AllocArg, reason: ReasonOpt = "",
         output: OutputOpt = OutputFormat.TABLE) -> None:
    """Deny a request, saying why (the provider's admins)."""
    call_api(lambda c: c.allocation_action(allocation, "deny", {"reason": reason}), output)


@app.command("disable")
def disable(allocation: AllocArg,
            reason: Annotated[str, typer.Option(help="why (required); recorded and shown",
                                                show_default=False)],
            wait: WaitOpt = False, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Suspend an active allocation: its tenant is disabled and credentials revoked."""
    call_api(lambda c: _then(c, c.allocation_action(allocation, "disable",
                                                    {"reason": reason}), wait), output)


@app.command("enable")
def enable(allocation: AllocArg, reason: ReasonOpt = "", wait: WaitOpt = False,
           output: OutputOpt = OutputFormat.TABLE) -> None:
    """Lift a suspension (members then ask for new credentials)."""
    call_api(lambda c: _then(c, c.allocation_action(allocation, "enable",
                                                    {"reason": reason}), wait), output)


@app.command("changes")
def list_changes(allocation: AllocArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """List the allocation's change requests (quota changes and renewals), oldest first."""
    call_api(lambda c: c.list_changes(allocation), output, CHANGE_COLUMNS)


@app.command("release")
def release(allocation: AllocArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Give the allocation back; what OCX made on the provider is deleted."""
    call_api(lambda c: c.allocation_action(allocation, "release"), output)


@app.command("change")
def request_change(allocation: AllocArg, quota: QuotaOpt = None, ends_at: EndsOpt = None,
                   justification: Annotated[str, typer.Option(help="why")] = "",
                   output: OutputOpt = OutputFormat.TABLE) -> None:
    """Ask for a new quota (up or down) or a later end (PI, managers)."""
    body = {"quota": parse_quota(quota) if quota else None, "justification": justification,
            "ends_at": ends_at.isoformat() if ends_at else None}
    call_api(lambda c: c.request_change(allocation, body), output)


@app.command("decide-change")
def decide_change(allocation: AllocArg,
                  change: Annotated[str, typer.Argument(help="the change request's id")],
                  deny_it: Annotated[bool, typer.Option("--deny", help="deny it")] = False,
                  reason: ReasonOpt = "", output: OutputOpt = OutputFormat.TABLE) -> None:
    """Approve (default) or deny a change request (the provider's admins)."""
    verb = "deny" if deny_it else "approve"
    call_api(lambda c: c.decide_change(allocation, change, verb, reason), output)


def write_private(path: Path, text: str, *, force: bool) -> None:
    """Write a secret file readable by its owner only; never through a symlink, and never
    over an existing file unless ``force`` (a clouds.yaml may hold other clouds)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        fail(f"{path} exists; choose another --dir, or --force to replace it", 2)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", 2)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@app.command("credentials")
def credentials(
    allocation: AllocArg,
    directory: Annotated[Path, typer.Option(
        "--dir", help="write the credential files here (mode 0600)")] = Path("."),
    force: Annotated[bool, typer.Option(help="replace files that exist")] = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Get working credentials for yourself (clouds.yaml, openrc...); shown once."""
    with connect() as client:
        op = wait_for(client, client.allocation_operation(allocation, "credentials").id)
        issued = client.collect_credentials(allocation, str(op.id))
    if output is OutputFormat.JSON:
        print_json(issued)
        return
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in issued.files.items():
        write_private(directory / name, text, force=force)
        typer.echo(f"wrote {directory / name}")
    for key, value in issued.hints.items():
        typer.echo(f"{key}: {value}")


@app.command("drift")
def drift(allocation: AllocArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show how the provider differs from OCX, changing nothing."""
    with connect() as client:
        op = wait_for(client, client.allocation_operation(allocation, "drift").id)
    result = op.result or {}
    if output is OutputFormat.JSON:
        print_json(op)
    elif result.get("in_line"):
        typer.echo("in line: the provider matches OCX")
    else:
        for line in result.get("differences", []):
            typer.echo(f"- {line}")
    show_exit = 0 if result.get("in_line") else 3
    raise typer.Exit(show_exit)



