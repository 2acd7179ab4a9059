"""``ocx project``: projects, the units of work and of billing."""

from __future__ import annotations

from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import LimitOpt, NamePrefixOpt, SlugArg

app = typer.Typer(help="Projects: units of work and billing, each sponsored by an organization.",
                  no_args_is_help=True)

COLUMNS = ("name", "organization", "description", "id")
ProjectArg = Annotated[str, typer.Argument(help="project name or id", show_default=False)]
DescriptionOpt = Annotated[str | None, typer.Option(help="what the project is for")]


@app.command("create")
def create_project(
    name: SlugArg,
    org: Annotated[str, typer.Option(
        "--org", help="sponsoring organization (name or id)", show_default=False)],
    description: DescriptionOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create a project sponsored by an organization (operators, org admins)."""
    call_api(lambda c: c.create_project(name, organization=org, description=description),
             output, COLUMNS)


@app.command("list")
def list_projects(
    org: Annotated[str | None, typer.Option(
        "--org", help="only this organization's (name or id)")] = None,
    name: NamePrefixOpt = None,
    limit: LimitOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the projects you are in or administer (operators: all)."""
    call_api(lambda c: collect(c.list_projects, limit, organization=org, name=name),
             output, COLUMNS)


@app.command("show")
def show_project(project: ProjectArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one project."""
    call_api(lambda c: c.get_project(project), output)


@app.command("update")
def update_project(project: ProjectArg, description: DescriptionOpt = None,
                   output: OutputOpt = OutputFormat.TABLE) -> None:
    """Change a project's description (PI, manager, org admins, operators)."""
    call_api(lambda c: c.update_project(project, description=description), output)


@app.command("delete")
def delete_project(project: ProjectArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Delete a project (org admins, operators)."""
    call_api(lambda c: c.delete_project(project), output, done=f"deleted project {project}")
