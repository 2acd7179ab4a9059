"""``ocx org``: organizations, and their members and admins (``ocx org member``)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect
from ocx.cli.output import OutputFormat, OutputOpt
from ocx.cli.params import ExpiresOpt, LimitOpt, MemberArg, NamePrefixOpt, SlugArg
from ocx.domain.identity.roles import OrgRole

app = typer.Typer(help="Organizations: the institutions and providers that sponsor projects.",
                  no_args_is_help=True)
member_app = typer.Typer(help="An organization's affiliated users and its admins.",
                         no_args_is_help=True)
app.add_typer(member_app, name="member")

COLUMNS = ("name", "display_name", "id", "created_at")
MEMBER_COLUMNS = ("email", "role", "expires_at", "user_id")
OrgArg = Annotated[str, typer.Argument(help="organization name or id", show_default=False)]
DisplayNameOpt = Annotated[str | None, typer.Option(help="a longer, human-friendly name")]
DescriptionOpt = Annotated[str | None, typer.Option(help="what the organization is")]


@app.command("create")
def create_org(
    name: SlugArg,
    display_name: DisplayNameOpt = None,
    description: DescriptionOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Create an organization (operators)."""
    call_api(lambda c: c.create_org(name, display_name=display_name, description=description),
             output, COLUMNS)


@app.command("list")
def list_orgs(
    name: NamePrefixOpt = None,
    limit: LimitOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the organizations you belong to (operators: all)."""
    call_api(lambda c: collect(c.list_orgs, limit, name=name), output, COLUMNS)


@app.command("show")
def show_org(org: OrgArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Show one organization."""
    call_api(lambda c: c.get_org(org), output)


@app.command("update")
def update_org(org: OrgArg, display_name: DisplayNameOpt = None,
               description: DescriptionOpt = None,
               output: OutputOpt = OutputFormat.TABLE) -> None:
    """Change an organization's display name or description (operators, org admins)."""
    call_api(lambda c: c.update_org(org, display_name=display_name, description=description),
             output)


@app.command("delete")
def delete_org(org: OrgArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Delete an organization that sponsors no project (operators)."""
    call_api(lambda c: c.delete_org(org), output, done=f"deleted organization {org}")


@member_app.command("add")
def add_org_member(
    org: OrgArg,
    email: MemberArg,
    role: Annotated[OrgRole, typer.Option(
        case_sensitive=False, help="admin: manages the organization; member: affiliated")
    ] = OrgRole.MEMBER,
    expires: ExpiresOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Affiliate a user with an organization, or change their role in it."""
    call_api(lambda c: c.add_org_member(org, email, role=role, expires_at=expires), output)


@member_app.command("list")
def list_org_members(org: OrgArg, limit: LimitOpt = None,
                     output: OutputOpt = OutputFormat.TABLE) -> None:
    """List an organization's members and admins (operators, org admins)."""
    call_api(lambda c: collect(partial(c.list_org_members, org), limit),
             output, MEMBER_COLUMNS)


@member_app.command("remove")
def remove_org_member(org: OrgArg, email: MemberArg,
                      output: OutputOpt = OutputFormat.TABLE) -> None:
    """End a user's affiliation with an organization."""
    call_api(lambda c: c.remove_org_member(org, email), output,
             done=f"removed {email} from organization {org}")
