"""``ocx node``: register nodes (owners) and use them (lessees): networks, power, boot.

``connect``, ``detach``, ``power`` and ``boot-device`` are journalled operations; by
default the command waits for the switch or BMC to answer (``--no-wait`` returns at
once with the operation, to follow with ``ocx operation wait``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.operations import TIMED_OUT, poll, progress_report
from ocx.cli.output import OutputFormat, OutputOpt, fail, show
from ocx.cli.params import LimitOpt, SlugArg
from ocx.cli.switches import parse_settings
from ocx.client import OcxClient
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.operations.states import OperationState

app = typer.Typer(help="Nodes: bare-metal machines owners lend and projects lease.",
                  no_args_is_help=True)
nic_app = typer.Typer(help="A node's network interfaces and where they are cabled.",
                      no_args_is_help=True)
power_app = typer.Typer(help="Power a node through its BMC.", no_args_is_help=True)
app.add_typer(nic_app, name="nic")
app.add_typer(power_app, name="power")

COLUMNS = ("name", "site", "owner", "resource_class", "power_state", "lessee", "power_error",
           "id")
NodeArg = Annotated[str, typer.Argument(help="node name or id", show_default=False)]
NicOpt = Annotated[str, typer.Option("--nic", help="NIC name or MAC", show_default=False)]
WaitOpt = Annotated[bool, typer.Option(
    "--wait/--no-wait", help="wait for the switch or BMC (else print the operation)")]
TimeoutOpt = Annotated[float, typer.Option(min=0, help="seconds to wait at most")]
PasswordOpt = Annotated[bool, typer.Option(
    "--bmc-password-stdin", help="read the BMC password from standard input (not argv)")]


def _with_password(settings: dict[str, Any], from_stdin: bool) -> dict[str, Any]:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            fail("no BMC password on standard input", 2)
        settings["password"] = password
    return settings


def run_operation(call: Callable[[OcxClient], OperationPublic], wait: bool, timeout: float,
                  output: OutputFormat) -> None:
    """Start an operation; unless ``wait`` is off, follow it to its end (exit 1 if failed)."""
    with connect() as client:
        op = call(client)
        if wait:
            with progress_report() as report:
                op = poll(client, str(op.id), timeout, 0.5, report)
    show(op, output)
    if op.state is OperationState.FAILED:
        fail(f"operation {op.id} failed: {op.last_error or 'no error recorded'}")
    if wait and op.state is not OperationState.DONE:
        fail(f"operation {op.id} is still {op.state.value} after {timeout:g}s", TIMED_OUT)


@app.command("register")
def register_node(
    name: SlugArg,
    site: Annotated[str, typer.Option(help="its site", show_default=False)],
    owner: Annotated[str, typer.Option(help="the organization lending it", show_default=False)],
    resource_class: Annotated[str, typer.Option(help="what kind of node it is, e.g. gpu-a100",
                                                show_default=False)],
    power_driver: Annotated[str, typer.Option(help="redfish, fake...", show_default=False)],
    power_setting: Annotated[list[str] | None, typer.Option(
        "--power-setting", metavar="KEY=VALUE",
        help="a BMC setting (repeat): address=..., system_id=..., username=...")] = None,
    bmc_password_stdin: PasswordOpt = False,
    description: Annotated[str | None, typer.Option(help="free text")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Register a node and its BMC (the owner's org admins, operators)."""
    settings = _with_password(parse_settings(power_setting), bmc_password_stdin)
    call_api(lambda c: c.register_node(name, site=site, owner=owner,
                                       resource_class=resource_class, power_driver=power_driver,
                                       power_settings=settings, description=description),
             output)


@app.command("list")
def list_nodes(
    site: Annotated[str | None, typer.Option(help="only this site's")] = None,
    owner: Annotated[str | None, typer.Option(help="only this organization's")] = None,
    resource_class: Annotated[str | None, typer.Option(help="only this class")] = None,
    leased_by: Annotated[str | None, typer.Option(help="only those this project leases")]
    = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the exchange's nodes."""
    call_api(lambda c: collect(c.list_nodes, limit, site=site, owner=owner,
                               resource_class=resource_class, leased_by=leased_by),
             output, COLUMNS)


@app.command("show")
def show_node(node: NodeArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show a node: NICs and networks, power, lessee, and any operation holding it."""
    call_api(lambda c: c.get_node(node), output)


@app.command("update")
def update_node(
    node: NodeArg,
    resource_class: Annotated[str | None, typer.Option(help="a new class")] = None,
    description: Annotated[str | None, typer.Option(help="free text")] = None,
    power_driver: Annotated[str | None, typer.Option(help="a new power driver")] = None,
    power_setting: Annotated[list[str] | None, typer.Option(
        "--power-setting", metavar="KEY=VALUE", help="a BMC setting to change (repeat)")]
    = None,
    bmc_password_stdin: PasswordOpt = False,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Change a node (its owner while it is not leased)."""
    settings = _with_password(parse_settings(power_setting), bmc_password_stdin)
    call_api(lambda c: c.update_node(node, resource_class=resource_class,
                                     description=description, power_driver=power_driver,
                                     power_settings=settings or None), output)


@app.command("delete")
def delete_node(node: NodeArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Delete a node that was never leased."""
    call_api(lambda c: c.delete_node(node), output, done=f"deleted node {node}")


@nic_app.command("add")
def add_nic(
    node: NodeArg,
    name: Annotated[str, typer.Argument(help="the NIC's name, e.g. eth0", show_default=False)],
    mac: Annotated[str, typer.Option(help="its MAC address", show_default=False)],
    switch: Annotated[str | None, typer.Option(help="the switch it is cabled to")] = None,
    port: Annotated[str | None, typer.Option(help="the switch port")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Add a NIC to a node, cabled to a switch port."""
    call_api(lambda c: c.add_nic(node, name, mac=mac, switch=switch, port=port), output)


@nic_app.command("remove")
def remove_nic(node: NodeArg,
               nic: Annotated[str, typer.Argument(help="NIC name or MAC", show_default=False)],
               output: OutputOpt = OutputFormat.TABLE) -> None:
    """Remove a NIC that carries no network."""
    call_api(lambda c: c.remove_nic(node, nic), output, done=f"removed {nic} from {node}")


@app.command("connect")
def connect_node(
    node: NodeArg, nic: NicOpt,
    network: Annotated[str, typer.Option(help="network name, PROJECT/NAME or id",
                                         show_default=False)],
    tagged: Annotated[bool, typer.Option(help="carry it tagged (default: untagged)")] = False,
    wait: WaitOpt = True, timeout: TimeoutOpt = 300.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Connect a NIC to a network (the lessee during a lease, else the owner)."""
    mode = "tagged" if tagged else None
    run_operation(lambda c: c.connect_node(node, nic=nic, network=network, mode=mode), wait,
                  timeout, output)


@app.command("detach")
def detach_node(
    node: NodeArg, nic: NicOpt,
    network: Annotated[str | None, typer.Option(help="only this network (default: all)")]
    = None,
    wait: WaitOpt = True, timeout: TimeoutOpt = 300.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Detach a NIC from one network, or from all of them."""
    run_operation(lambda c: c.detach_node(node, nic=nic, network=network), wait, timeout,
                  output)


def _power_command(action: str) -> None:
    def command(node: NodeArg, wait: WaitOpt = True, timeout: TimeoutOpt = 300.0,
                output: OutputOpt = OutputFormat.TABLE) -> None:
        run_operation(lambda c: c.power_node(node, action), wait, timeout, output)

    command.__doc__ = {"on": "Power the node on.", "off": "Power the node off (hard).",
                       "cycle": "Power the node off and on again.",
                       "status": "Ask the BMC whether the node is on."}[action]
    power_app.command(action)(command)


for _action in ("on", "off", "cycle", "status"):
    _power_command(_action)


@app.command("boot-device")
def boot_device(
    node: NodeArg,
    device: Annotated[str, typer.Argument(help="pxe or disk", show_default=False)],
    once: Annotated[bool, typer.Option(help="only for the next boot")] = False,
    wait: WaitOpt = True, timeout: TimeoutOpt = 300.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Choose where the node boots from."""
    run_operation(lambda c: c.set_boot_device(node, device, persistent=not once), wait,
                  timeout, output)


@app.command("provision")
def provision(
    node: NodeArg,
    image: Annotated[str, typer.Option(help="image name, PROJECT/NAME or id",
                                       show_default=False)],
    keep_snapshot: Annotated[bool, typer.Option(
        help="at release, keep the node's disk as a snapshot image of the project")] = False,
    wait: WaitOpt = True, timeout: TimeoutOpt = 600.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Boot the node diskless from a fresh clone of an image (again: re-map it)."""
    run_operation(lambda c: c.provision_node(node, image, keep_snapshot=keep_snapshot), wait,
                  timeout, output)


@app.command("unprovision")
def unprovision(
    node: NodeArg,
    keep_snapshot: Annotated[bool | None, typer.Option(
        "--keep-snapshot/--no-snapshot", help="keep the disk as a snapshot image (default: "
        "as chosen at provisioning)", show_default=False)] = None,
    wait: WaitOpt = True, timeout: TimeoutOpt = 300.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Power the node off and give its disk back."""
    run_operation(lambda c: c.unprovision_node(node, keep_snapshot=keep_snapshot), wait,
                  timeout, output)


@app.command("disk")
def disk(node: NodeArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """What the node boots from now: image, state, export."""
    call_api(lambda c: c.node_disk(node), output)
