"""``ocx operation``: the journal of calls to outside systems, and waiting for one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.output import OutputFormat, OutputOpt, console, fail, show
from ocx.cli.params import LimitOpt
from ocx.client import OcxClient
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.operations.states import OperationState

app = typer.Typer(help="Operations: journalled calls to outside systems, run by the workers.",
                  no_args_is_help=True)

COLUMNS = ("id", "kind", "state", "attempts", "target_type", "target_id", "updated_at")
TIMED_OUT = 124  # the exit code of coreutils' timeout(1)
FINAL = (OperationState.DONE, OperationState.FAILED)
IdArg = Annotated[str, typer.Argument(metavar="ID", help="the operation's id",
                                      show_default=False)]
Report = Callable[[OperationPublic], None]


@app.command("list")
def list_operations(
    state: Annotated[OperationState | None, typer.Option(
        case_sensitive=False, help="only operations in this state")] = None,
    kind: Annotated[str | None, typer.Option(
        help="only operations of this kind, e.g. notify.member_added")] = None,
    limit: LimitOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the operations you requested, oldest first (operators: all)."""
    call_api(lambda c: collect(c.list_operations, limit, state=state, kind=kind), output,
             COLUMNS)


@app.command("show")
def show_operation(operation_id: IdArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one operation: its state, attempts, last error and result."""
    call_api(lambda c: c.get_operation(operation_id), output)


@app.command("retry")
def retry_operation(operation_id: IdArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Run a failed operation again, with a fresh set of attempts (operators)."""
    call_api(lambda c: c.retry_operation(operation_id), output)


def describe(op: OperationPublic) -> str:
    """One line on where an operation is."""
    line = (f"operation {op.id} ({op.kind}): {op.state.value}, "
            f"attempt {op.attempts}/{op.max_attempts}")
    return f"{line}; last error: {op.last_error}" if op.last_error else line


class LineReport:
    """One line on stderr each time the operation's state, attempts or error change."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, op: OperationPublic) -> None:
        """Print where the operation is, unless that is what was printed last."""
        line = describe(op)
        if line != self.last:
            typer.echo(line, err=True)
            self.last = line


@contextmanager
def progress_report() -> Iterator[Report]:
    """A spinner on stderr when it is a terminal; otherwise one line per change."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield LineReport()
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("waiting", total=None)
        yield lambda op: progress.update(task, description=describe(op))


def poll(client: OcxClient, operation_id: str, timeout_s: float, interval_s: float,
         report: Report) -> OperationPublic:
    """Fetch the operation until it is final or ``timeout_s`` has passed; return the last."""
    deadline = time.monotonic() + timeout_s
    while True:
        op = client.get_operation(operation_id)
        report(op)
        left = deadline - time.monotonic()
        if op.state in FINAL or left <= 0:
            return op
        time.sleep(min(interval_s, left))


@app.command("wait")
def wait_operation(
    operation_id: IdArg,
    timeout: Annotated[float, typer.Option(min=0, help="give up after this many seconds")
                       ] = 600.0,
    interval: Annotated[float, typer.Option(min=0.05, help="seconds between checks")] = 1.0,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Wait until an operation is done or failed; exit 1 if it failed, 124 on timeout."""
    with connect() as client, progress_report() as report:
        op = poll(client, operation_id, timeout, interval, report)
    show(op, output)
    if op.state is OperationState.FAILED:
        fail(f"operation {op.id} failed: {op.last_error or 'no error recorded'}")
    if op.state not in FINAL:
        fail(f"operation {op.id} is still {op.state.value} after {timeout:g}s", TIMED_OUT)
