"""Command-line parameters that several nouns share, so each is described once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer


def parse_expiry(value: str) -> datetime:
    """A date or ISO 8601 time; without a time zone it is taken as UTC."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            "expected a date (2026-12-31) or an ISO 8601 time (2026-12-31T17:00:00Z)") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


SlugArg = Annotated[str, typer.Argument(
    metavar="NAME", help="short name: lower-case letters, digits and dashes",
    show_default=False)]
NamePrefixOpt = Annotated[str | None, typer.Option(help="only names starting with this")]
MemberArg = Annotated[str, typer.Argument(
    metavar="EMAIL", help="the user's email (or id)", show_default=False)]
ExpiresOpt = Annotated[datetime | None, typer.Option(
    parser=parse_expiry, metavar="DATE",
    help="membership ends then: a date (midnight UTC) or an ISO 8601 time")]
LimitOpt = Annotated[int | None, typer.Option(
    min=1, help="show at most this many (default: all, fetched page by page)")]
