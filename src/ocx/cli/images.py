"""``ocx image``: the image library (upload, list, show, rm, clone, snapshot).

Uploads stream the file with its SHA-256 (computed here unless ``--sha256`` is given);
storing, cloning, snapshotting and removing are journalled operations, and by default
the command waits for them (``--no-wait`` prints the image at once, with the operation
to follow with ``ocx operation wait``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.operations import TIMED_OUT, poll, progress_report
from ocx.cli.output import OutputFormat, OutputOpt, fail, show
from ocx.cli.params import LimitOpt, SlugArg
from ocx.client import ApiError, OcxClient
from ocx.domain.images.schemas import ImagePublic
from ocx.domain.operations.states import OperationState

app = typer.Typer(help="Images: golden images, their clones, and snapshots of nodes' disks.",
                  no_args_is_help=True)

COLUMNS = ("name", "project", "kind", "state", "size_bytes", "backend", "parent", "in_use_by",
           "id")
ImageArg = Annotated[str, typer.Argument(metavar="IMAGE", help="id, PROJECT/NAME or name",
                                         show_default=False)]
WaitOpt = Annotated[bool, typer.Option(
    "--wait/--no-wait", help="wait for the backend (else print the image at once)")]
TimeoutOpt = Annotated[float, typer.Option(min=0, help="seconds to wait at most")]
ProjectOpt = Annotated[str | None, typer.Option(help="owner project (ORG:NAME or id)")]


def run_image_operation(call: Callable[[OcxClient], ImagePublic], wait: bool, timeout: float,
                        output: OutputFormat) -> None:
    """Start an image operation; unless ``wait`` is off, follow it, then show the image."""
    with connect() as client:
        image = call(client)
        if wait and image.operation_id is not None:
            with progress_report() as report:
                op = poll(client, str(image.operation_id), timeout, 0.5, report)
            if op.state is OperationState.FAILED:
                fail(f"operation {op.id} failed: {op.last_error or 'no error recorded'}")
            if op.state is not OperationState.DONE:
                fail(f"operation {op.id} is still {op.state.value} after {timeout:g}s",
                     TIMED_OUT)
            refreshed = _refreshed(client, image)
            if refreshed is None:
                typer.echo(f"image {image.name} removed")
                return
            image = refreshed
    show(image, output, COLUMNS)


def _refreshed(client: OcxClient, image: ImagePublic) -> ImagePublic | None:
    """The image as it is now; None once it is removed."""
    try:
        return client.get_image(str(image.id))
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


@app.command("upload")
def upload_image(
    path: Annotated[Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False,
                                         readable=True, help="a raw or qcow2 image")],
    name: Annotated[str, typer.Option(help="the image's name", show_default=False)],
    project: ProjectOpt = None,
    public: Annotated[bool, typer.Option(help="publish for every project (operators)")] = False,
    sha256: Annotated[str | None, typer.Option(help="expected SHA-256 (default: computed)")
                      ] = None,
    description: Annotated[str | None, typer.Option()] = None,
    backend: Annotated[str | None, typer.Option(help="default: the server's")] = None,
    wait: WaitOpt = True, timeout: TimeoutOpt = 3600.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Upload a golden image for a project (PI, managers) or, with --public, for everyone."""
    if (project is None) != public:
        fail("give either --project PROJECT or --public", 2)
    run_image_operation(lambda c: c.upload_image(path, name, project=project, sha256=sha256,
                                                 description=description, backend=backend),
                        wait, timeout, output)


@app.command("list")
def list_images(
    project: Annotated[str | None, typer.Option(help="only this project's")] = None,
    public: Annotated[bool | None, typer.Option(
        "--public/--private", help="only public ones, or only projects'", show_default=False)
    ] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Public images and your projects' images."""
    call_api(lambda c: collect(c.list_images, limit, project=project, public=public),
             output, COLUMNS)


@app.command("show")
def show_image(image: ImageArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """One image: state, size, checksum, parent and the nodes using it."""
    call_api(lambda c: c.get_image(image), output, COLUMNS)


@app.command("rm")
def remove_image(image: ImageArg, wait: WaitOpt = True, timeout: TimeoutOpt = 600.0,
                 output: OutputOpt = OutputFormat.TABLE) -> None:
    """Remove an image (refused while a node uses it or clones depend on it)."""
    run_image_operation(lambda c: c.delete_image(image), wait, timeout, output)


@app.command("clone")
def clone_image(
    source: ImageArg, name: SlugArg,
    project: Annotated[str, typer.Option(help="the clone's project", show_default=False)],
    description: Annotated[str | None, typer.Option()] = None,
    wait: WaitOpt = True, timeout: TimeoutOpt = 600.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Clone an image copy-on-write into a new image of your project."""
    run_image_operation(lambda c: c.clone_image(source, name, project=project,
                                                description=description),
                        wait, timeout, output)


@app.command("snapshot")
def snapshot_node(
    node: Annotated[str, typer.Argument(help="node name or id", show_default=False)],
    name: SlugArg, project: ProjectOpt = None,
    description: Annotated[str | None, typer.Option()] = None,
    wait: WaitOpt = True, timeout: TimeoutOpt = 3600.0, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Freeze the disk a node boots from into a new image (default: of its lessee project)."""
    run_image_operation(lambda c: c.snapshot_node(node, name, project=project,
                                                  description=description),
                        wait, timeout, output)
