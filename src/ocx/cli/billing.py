"""``ocx price-book``, ``ocx credit`` and ``ocx report``: prices, credits and showback."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.marketplace import OfferingArg, read_settings
from ocx.cli.output import OutputFormat, OutputOpt, print_rows, show
from ocx.cli.params import LimitOpt, SlugArg

price_book_app = typer.Typer(
    help="The price book: dated usage rates, service units, billed states and outages.",
    no_args_is_help=True)
credit_app = typer.Typer(help="Credits and subsidies organizations use before they pay.",
                         no_args_is_help=True)
report_app = typer.Typer(help="Reports: showback of invoiced usage.", no_args_is_help=True)

PlanArg = Annotated[str, typer.Argument(help="plan name or id", show_default=False)]
WhenOpt = Annotated[str, typer.Option(
    "--from", help="ISO 8601 time with zone, e.g. 2026-10-16T00:00:00Z", show_default=False)]
RATE_COLUMNS = ("component", "kind", "unit", "unit_price", "valid_from", "valid_until", "id")
CREDIT_COLUMNS = ("name", "organization_id", "project_id", "amount", "used", "currency",
                  "percent", "priority", "excluded_components", "id")


@price_book_app.command("show")
def show_price_book(offering: OfferingArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show an offering's plans: rates, service units, billed states; and its outages."""
    with connect() as client:
        book = client.get_price_book(offering)
    if output is OutputFormat.JSON:
        show(book, output)
        return
    for plan in book.plans:
        typer.echo(f"plan {plan.plan} ({plan.currency}); billed server states: "
                   f"{', '.join(plan.rules.billed_states)}")
        for unit in plan.rules.service_units:
            typer.echo(f"  service unit {unit.component}: gpu_type={unit.gpu_type or '-'} "
                       f"vcpus={unit.vcpus} ram_mib={unit.ram_mib} gpus={unit.gpus or '-'}")
        for rule in plan.rules.meters:
            typer.echo(f"  meter {rule.meter} -> {rule.component}")
        print_rows(plan.rates, RATE_COLUMNS)
    typer.echo("outages:")
    print_rows(book.outages, ("starts_at", "ends_at", "reason", "provider_id", "offering_id",
                              "id"))


@price_book_app.command("set-rate")
def set_rate(
    offering: OfferingArg, plan: PlanArg,
    component: Annotated[str, typer.Argument(help="e.g. cpu_su, storage_gib",
                                             show_default=False)],
    price: Annotated[str, typer.Argument(help="price of one unit, e.g. 0.015",
                                         show_default=False)],
    valid_from: WhenOpt,
    unit: Annotated[str | None, typer.Option(
        help="what one unit is (default: the previous rate's, SU-hour for service units)")
    ] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Price a component from a time on; the rate in force then ends there."""
    body = {"component": component, "unit_price": price, "valid_from": valid_from}
    if unit:
        body["unit"] = unit
    call_api(lambda c: c.set_rate(offering, plan, body), output)


@price_book_app.command("set-rules")
def set_rules(
    offering: OfferingArg, plan: PlanArg,
    rules: Annotated[str, typer.Option(
        help="JSON, or @FILE: service_units, billed_states, meters", show_default=False)],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Replace a plan's rating rules (service units, billed server states, meters)."""
    call_api(lambda c: c.set_rules(offering, plan, read_settings(rules)), output)


@price_book_app.command("add-outage")
def add_outage(
    starts_at: WhenOpt,
    ends_at: Annotated[str, typer.Option("--to", help="ISO 8601 time with zone",
                                         show_default=False)],
    provider: Annotated[str | None, typer.Option(help="a whole provider")] = None,
    offering: Annotated[str | None, typer.Option(help="one offering")] = None,
    reason: Annotated[str, typer.Option(help="why, for the invoice reader")] = "",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Record an outage of a provider or one offering: its usage then is not billed."""
    body = {"provider": provider, "offering": offering, "starts_at": starts_at,
            "ends_at": ends_at, "reason": reason}
    call_api(lambda c: c.add_outage({k: v for k, v in body.items() if v is not None}), output)


@price_book_app.command("remove-outage")
def remove_outage(outage: Annotated[str, typer.Argument(help="outage id", show_default=False)]
                  ) -> None:
    """Remove an outage (not one in a month closed by a final invoice)."""
    call_api(lambda c: c.delete_outage(outage), OutputFormat.TABLE, done="outage removed")


@credit_app.command("grant")
def grant_credit(
    name: SlugArg,
    org: Annotated[str, typer.Option("--org", help="the organization", show_default=False)],
    amount: Annotated[str, typer.Option(help="the most it pays, e.g. 500.00",
                                        show_default=False)],
    valid_from: WhenOpt,
    project: Annotated[str | None, typer.Option(help="only this project's usage")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 time it ends")] = None,
    percent: Annotated[str, typer.Option(help="share of each line it pays (a subsidy)")
                       ] = "100",
    priority: Annotated[int, typer.Option(help="lower is used first")] = 100,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="component pattern it may not pay, e.g. 'gpu*'; repeat")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "USD",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Give an organization, or one of its projects, a credit or subsidy (operators)."""
    body = {"organization": org, "project": project, "name": name, "amount": amount,
            "currency": currency, "percent": percent, "priority": priority,
            "excluded_components": exclude or [], "valid_from": valid_from,
            "valid_until": until}
    call_api(lambda c: c.grant_credit({k: v for k, v in body.items() if v is not None}),
             output, CREDIT_COLUMNS)


@credit_app.command("list")
def list_credits(org: Annotated[str | None, typer.Option("--org", help="only this one's")]
                 = None, limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE
                 ) -> None:
    """List credits, with how much final invoices have used."""
    call_api(lambda c: collect(c.list_credits, limit, organization=org), output,
             CREDIT_COLUMNS)


@report_app.command("showback")
def showback(
    period: Annotated[str, typer.Option(help="the month, YYYY-MM", show_default=False)],
    by: Annotated[str, typer.Option(help="project, user, org or provider")] = "project",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """A month's invoiced usage, before credits, by project, user, org or provider."""
    call_api(lambda c: c.showback(period, by), output, ("name", "amount", "currency", "key"))
