"""``ocx budget``: a project's monthly budget and the thresholds that notify its PI."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api
from ocx.cli.output import OutputFormat, OutputOpt

app = typer.Typer(help="Budgets: a project's monthly budget; crossing a threshold "
                       "notifies its PI once a month.", no_args_is_help=True)

ProjectArg = Annotated[str, typer.Argument(help="the project (ORG:NAME or id)",
                                           show_default=False)]


@app.command("set")
def set_budget(
    project: ProjectArg,
    amount: Annotated[str, typer.Option(help="the monthly budget, e.g. 500",
                                        show_default=False)],
    currency: Annotated[str, typer.Option(help="its currency")] = "USD",
    threshold: Annotated[list[int] | None, typer.Option(
        "--threshold", help="a percentage that notifies the PI (repeat; default 50 80 100)")
                         ] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Set a project's monthly budget (its PI and managers, operators)."""
    body: dict[str, object] = {"amount": amount, "currency": currency}
    if threshold:
        body["thresholds"] = threshold
    call_api(lambda c: c.set_budget(project, body), output)


@app.command("show")
def show_budget(project: ProjectArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """A project's budget, this month's spending so far and the thresholds notified."""
    call_api(lambda c: c.get_budget(project), output)
