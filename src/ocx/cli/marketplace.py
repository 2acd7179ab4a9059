"""``ocx provider``, ``ocx offering`` and ``ocx plan``: what is for sale, and by whom."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt, fail
from ocx.cli.params import LimitOpt, SlugArg

provider_app = typer.Typer(help="Providers: organizations that sell on the exchange.",
                           no_args_is_help=True)
offering_app = typer.Typer(help="Offerings: what providers sell, and to whom.",
                           no_args_is_help=True)
plan_app = typer.Typer(help="Plans: an offering's prices, as dated rates per component.",
                       no_args_is_help=True)

PROVIDER_COLUMNS = ("name", "display_name", "organization_id", "id")
OFFERING_COLUMNS = ("provider", "name", "kind", "driver", "auto_approve", "is_active", "id")
OfferingArg = Annotated[str, typer.Argument(help="offering: PROVIDER:NAME, name or id",
                                            show_default=False)]


@provider_app.command("create")
def create_provider(
    name: SlugArg,
    org: Annotated[str, typer.Option("--org", help="the selling organization",
                                     show_default=False)],
    display_name: Annotated[str | None, typer.Option(help="a longer, readable name")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Let an organization sell on the exchange (operators)."""
    call_api(lambda c: c.create_provider(name, organization=org, display_name=display_name),
             output, PROVIDER_COLUMNS)


@provider_app.command("list")
def list_providers(limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE) -> None:
    """List the providers on the exchange."""
    call_api(lambda c: collect(c.list_providers, limit), output, PROVIDER_COLUMNS)


@provider_app.command("show")
def show_provider(provider: Annotated[str, typer.Argument(help="provider name or id")],
                  output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one provider."""
    call_api(lambda c: c.get_provider(provider), output)


def parse_component(text: str) -> dict[str, Any]:
    """``name:unit[:max[:default]]``, e.g. ``cores:core:64:4``."""
    parts = text.split(":")
    if not 2 <= len(parts) <= 4 or not all(parts[:2]):
        raise typer.BadParameter(f"{text!r}: expected NAME:UNIT[:MAX[:DEFAULT]]")
    try:
        numbers = [int(p) if p else None for p in parts[2:]]
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: MAX and DEFAULT are whole numbers") from exc
    limits = [*numbers, None, None]
    return {"name": parts[0], "unit": parts[1], "max": limits[0], "default": limits[1]}


def read_settings(text: str | None) -> dict[str, Any]:
    """Driver settings: inline JSON, or @FILE holding JSON."""
    if not text:
        return {}
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        fail(f"--settings is not valid JSON: {exc}", 2)
    if not isinstance(value, dict):
        fail("--settings must be a JSON object", 2)
    return value


@offering_app.command("create")
def create_offering(
    name: SlugArg,
    provider: Annotated[str, typer.Option(help="the selling provider", show_default=False)],
    kind: Annotated[str, typer.Option(help="openstack, object_storage, kubernetes, ...",
                                      show_default=False)],
    driver: Annotated[str, typer.Option(help="the driver serving it, e.g. openstack",
                                        show_default=False)],
    component: Annotated[list[str], typer.Option(
        "--component", help="NAME:UNIT[:MAX[:DEFAULT]], repeat for each component",
        show_default=False)],
    settings: Annotated[str | None, typer.Option(
        help="the driver's settings as JSON, or @FILE (secrets are sealed at rest)")] = None,
    auto_approve: Annotated[bool, typer.Option(
        help="approve requests within the limits without a human")] = False,
    auto_renewals: Annotated[int, typer.Option(
        min=0, max=100, help="renewals --auto-approve grants before the provider decides")] = 2,
    auto_term_days: Annotated[int, typer.Option(
        min=1, max=3660,
        help="--auto-approve renews up to this many days after an allocation's start")] = 366,
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="restrict to this organization; repeat (default: open to all)")
    ] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List something for sale (the provider's admins, operators)."""
    body = {"provider": provider, "name": name, "kind": kind, "driver": driver,
            "driver_settings": read_settings(settings), "auto_approve": auto_approve,
            "auto_renewals": auto_renewals, "auto_term_days": auto_term_days,
            "components": [parse_component(c) for c in component],
            "allowed_organizations": allow or []}
    call_api(lambda c: c.create_offering(body), output, OFFERING_COLUMNS)


@offering_app.command("update")
def update_offering(
    offering: OfferingArg,
    display_name: Annotated[str | None, typer.Option(help="a longer name")] = None,
    description: Annotated[str | None, typer.Option(help="what it is")] = None,
    settings: Annotated[str | None, typer.Option(
        help="driver settings to change, as JSON or @FILE (others are kept)")] = None,
    auto_approve: Annotated[bool | None, typer.Option(
        "--auto-approve/--manual-approve", help="who approves requests",
        show_default=False)] = None,
    auto_renewals: Annotated[int | None, typer.Option(
        min=0, max=100, help="renewals --auto-approve grants before the provider decides",
        show_default=False)] = None,
    auto_term_days: Annotated[int | None, typer.Option(
        min=1, max=3660, show_default=False,
        help="--auto-approve renews up to this many days after an allocation's start")
    ] = None,
    active: Annotated[bool | None, typer.Option(
        "--active/--inactive", help="whether it takes new requests",
        show_default=False)] = None,
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="restrict to these organizations (replaces the list); repeat",
        show_default=False)] = None,
    open_to_all: Annotated[bool, typer.Option(
        "--open-to-all", help="lift any restriction to organizations")] = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Change an offering (its provider's admins; repointing a live one: operators)."""
    if allow and open_to_all:
        raise typer.BadParameter("give --allow or --open-to-all, not both")
    body = {key: value for key, value in {
        "display_name": display_name, "description": description,
        "driver_settings": read_settings(settings) if settings else None,
        "auto_approve": auto_approve, "auto_renewals": auto_renewals,
        "auto_term_days": auto_term_days, "is_active": active,
        "allowed_organizations": [] if open_to_all else allow}.items() if value is not None}
    if not body:
        raise typer.BadParameter("nothing to change: give at least one option")
    call_api(lambda c: c.update_offering(offering, body), output, OFFERING_COLUMNS)


@offering_app.command("list")
def list_offerings(
    provider: Annotated[str | None, typer.Option(help="only this provider's")] = None,
    kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the offerings open to you (and those you run)."""
    call_api(lambda c: collect(c.list_offerings, limit, provider=provider, kind=kind),
             output, OFFERING_COLUMNS)


@offering_app.command("show")
def show_offering(offering: OfferingArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one offering, with its components (and, to its admins, masked settings)."""
    call_api(lambda c: c.get_offering(offering), output)


def parse_rate(text: str) -> dict[str, Any]:
    """``component:kind:unit:price[:valid_from]``, e.g. ``cores:usage:core-hour:0.012``."""
    parts = text.split(":", 4)
    if len(parts) < 4:
        raise typer.BadParameter(f"{text!r}: expected COMPONENT:KIND:UNIT:PRICE[:VALID_FROM]")
    rate = dict(zip(("component", "kind", "unit", "unit_price"), parts[:4], strict=True))
    rate["valid_from"] = parts[4] if len(parts) == 5 else "1970-01-01T00:00:00Z"
    return rate


@plan_app.command("create")
def create_plan(
    offering: OfferingArg, name: SlugArg,
    rate: Annotated[list[str] | None, typer.Option(
        "--rate", help="COMPONENT:KIND:UNIT:PRICE[:VALID_FROM]; KIND is usage, limit, "
                       "fixed or one_time; repeat for each")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "USD",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Add a plan with dated rates to an offering (the provider's admins)."""
    body = {"name": name, "currency": currency, "rates": [parse_rate(r) for r in rate or []]}
    call_api(lambda c: c.create_plan(offering, body), output)


@plan_app.command("list")
def list_plans(offering: OfferingArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """List an offering's plans and rates."""
    call_api(lambda c: c.list_plans(offering), output, ("name", "currency", "rates", "id"))
