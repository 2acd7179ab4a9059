"""``ocx switch``: a provider's switches, their ports, and how OCX reaches them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt, SlugArg

app = typer.Typer(help="Switches: where nodes are cabled; OCX sets their ports' VLANs.",
                  no_args_is_help=True)
port_app = typer.Typer(help="A switch's ports.", no_args_is_help=True)
app.add_typer(port_app, name="port")

COLUMNS = ("name", "site", "owner", "driver", "ports", "id")
SwitchArg = Annotated[str, typer.Argument(help="switch name, SITE:NAME or id",
                                          show_default=False)]
SettingOpt = Annotated[list[str] | None, typer.Option(
    "--setting", metavar="KEY=VALUE",
    help="a driver setting (repeat); VALUE is read as JSON when it parses, e.g. 8 or true")]


def parse_settings(pairs: list[str] | None, document: str | None = None) -> dict[str, Any]:
    """Driver settings from a JSON object and KEY=VALUE pairs (the pairs win)."""
    settings: dict[str, Any] = {}
    if document:
        try:
            loaded = json.loads(document)
        except ValueError as exc:
            raise typer.BadParameter(f"--settings is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise typer.BadParameter("--settings must be a JSON object")
        settings.update(loaded)
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, not {pair!r}")
        try:
            settings[key] = json.loads(raw)
        except ValueError:
            settings[key] = raw
    return settings


@app.command("register")
def register_switch(
    name: SlugArg,
    site: Annotated[str, typer.Option(help="its site", show_default=False)],
    owner: Annotated[str, typer.Option(help="the organization that owns it",
                                       show_default=False)],
    driver: Annotated[str, typer.Option(help="switch driver: ovs, fake...", show_default=False)],
    setting: SettingOpt = None,
    settings: Annotated[str | None, typer.Option(help="driver settings as a JSON object")]
    = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Register a switch (the owner's org admins, operators)."""
    values = parse_settings(setting, settings)
    call_api(lambda c: c.create_switch(name, site=site, owner=owner, driver=driver,
                                       settings=values), output)


@app.command("list")
def list_switches(
    site: Annotated[str | None, typer.Option(help="only this site's")] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the switches of the organizations you administer (operators: all)."""
    call_api(lambda c: collect(c.list_switches, limit, site=site), output, COLUMNS)


@app.command("show")
def show_switch(switch: SwitchArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show a switch, its ports and its (masked) settings."""
    call_api(lambda c: c.get_switch(switch), output)


@app.command("update")
def update_switch(switch: SwitchArg, setting: SettingOpt = None,
                  output: OutputOpt = OutputFormat.TABLE) -> None:
    """Change driver settings (a secret left out, or given as ***, is kept)."""
    values = parse_settings(setting)
    call_api(lambda c: c.update_switch(switch, values), output)


@app.command("delete")
def delete_switch(switch: SwitchArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Delete a switch no NIC is cabled to."""
    call_api(lambda c: c.delete_switch(switch), output, done=f"deleted switch {switch}")


@port_app.command("add")
def add_ports(switch: SwitchArg,
              ports: Annotated[list[str], typer.Argument(help="port names, as the switch "
                                                              "names them", show_default=False)],
              output: OutputOpt = OutputFormat.TABLE) -> None:
    """Add ports to a switch."""
    call_api(lambda c: c.add_ports(switch, ports), output)


@port_app.command("remove")
def remove_port(switch: SwitchArg,
                port: Annotated[str, typer.Argument(help="the port", show_default=False)],
                output: OutputOpt = OutputFormat.TABLE) -> None:
    """Remove a port no NIC is cabled to."""
    call_api(lambda c: c.remove_port(switch, port), output,
             done=f"removed port {port} of {switch}")
