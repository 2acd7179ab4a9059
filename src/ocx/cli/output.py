"""How commands print: a readable table or the API's JSON, and errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

# Output that is not a terminal (a pipe, a file, a test) is not wrapped at 80 columns.
PIPE_WIDTH = 250


class OutputFormat(StrEnum):
    """How a command prints its result."""

    TABLE = "table"
    JSON = "json"


OutputOpt = Annotated[OutputFormat, typer.Option(
    "-o", "--output", case_sensitive=False,
    help="table (for people) or json (the API's objects, for programs)")]


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr), unwrapped when it is not a terminal."""
    out = Console(stderr=stderr, highlight=False)
    return out if out.is_terminal else Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)


def print_table(table: Table) -> None:
    """Print a table on stdout without the padding rich leaves at the end of each line."""
    out = console()
    with out.capture() as captured:
        out.print(table)
    out.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def fail(message: str, code: int = 1, *, hint: str | None = None) -> NoReturn:
    """Print ``error: message`` (and a hint) on stderr and exit with ``code``."""
    typer.secho(f"error: {message}", err=True, fg="red")
    if hint:
        typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(code)


def cell(value: Any) -> str:
    """A value as a table cell: times to the second in UTC, nothing as ``-``."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str) if value else "-"
    return str(value)


def print_json(result: BaseModel | Sequence[BaseModel]) -> None:
    """Print the API object (or a list of them) as indented JSON."""
    if isinstance(result, BaseModel):
        data: Any = result.model_dump(mode="json")
    else:
        data = [item.model_dump(mode="json") for item in result]
    typer.echo(json.dumps(data, indent=2))


def print_record(fields: Mapping[str, Any]) -> None:
    """Print one object as a two-column table: field name, value."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for field, value in fields.items():
        table.add_row(field, cell(value))
    print_table(table)


def print_rows(rows: Sequence[BaseModel], columns: Sequence[str]) -> None:
    """Print a list of objects as a table; the headers are the API's field names."""
    if not rows:
        typer.echo("(none)")
        return
    table = Table(*columns, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*(cell(getattr(row, column)) for column in columns))
    print_table(table)


def show(result: BaseModel | Sequence[BaseModel], output: OutputFormat,
         columns: Sequence[str] = ()) -> None:
    """Print a command's result in the chosen format."""
    if output is OutputFormat.JSON:
        print_json(result)
    elif isinstance(result, BaseModel):
        print_record(result.model_dump())
    else:
        print_rows(result, columns)
