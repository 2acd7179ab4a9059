"""``ocx invoice``: generate a month's drafts, read them, finalize, correct, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ocx.cli.calls import call_api, collect, connect
from ocx.cli.output import OutputFormat, OutputOpt, print_record, print_rows, show
from ocx.cli.params import LimitOpt
from ocx.domain.billing.schemas import InvoiceDetail

app = typer.Typer(help="Invoices: one per organization per month, draft then final.",
                  no_args_is_help=True)

InvoiceArg = Annotated[str, typer.Argument(help="invoice id", show_default=False)]
INVOICE_COLUMNS = ("period", "kind", "state", "organization_id", "currency", "subtotal",
                   "credits_total", "total", "id")
LINE_COLUMNS = ("project_id", "resource_kind", "resource_id", "component", "quantity", "unit",
                "unit_price", "amount")


@app.command("generate")
def generate(
    period: Annotated[str, typer.Option(help="the month, YYYY-MM (UTC)", show_default=False)],
    org: Annotated[str | None, typer.Option(
        "--org", help="only this organization (default: every one with usage)")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Rate a month into draft invoices; a draft made again is replaced (operators)."""
    call_api(lambda c: c.generate_invoices(period, org), output, INVOICE_COLUMNS)


@app.command("list")
def list_invoices(
    org: Annotated[str | None, typer.Option("--org", help="only this organization's")] = None,
    period: Annotated[str | None, typer.Option(help="only this month, YYYY-MM")] = None,
    state: Annotated[str | None, typer.Option(help="draft or final")] = None,
    limit: LimitOpt = None, output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """List the invoices you may read."""
    call_api(lambda c: collect(c.list_invoices, limit, organization=org, period=period,
                               state=state), output, INVOICE_COLUMNS)


@app.command("show")
def show_invoice(
    invoice: InvoiceArg,
    project: Annotated[str | None, typer.Option(
        help="only this project's page (PIs see their own project's)")] = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Show an invoice with its lines, or one project's page of it."""
    with connect() as client:
        found = (client.project_summary(invoice, project) if project
                 else client.get_invoice(invoice))
    if output is OutputFormat.JSON:
        show(found, output)
    elif isinstance(found, InvoiceDetail):
        print_record(found.model_dump(exclude={"lines", "credits"}))
        print_rows(found.lines, LINE_COLUMNS)
    else:
        print_record(found.model_dump(exclude={"sections", "users", "quota_periods"}))
        for name, usage in found.sections.items():
            typer.echo(f"{name}:")
            print_rows(usage, ("resource_id", "quantity", "unit", "amount", "attributes"))


@app.command("finalize")
def finalize(invoice: InvoiceArg, output: OutputOpt = OutputFormat.TABLE) -> None:
    """Make a draft final once its month is over; it never changes again (operators)."""
    call_api(lambda c: c.finalize_invoice(invoice), output)


@app.command("credit-note")
def credit_note(
    invoice: InvoiceArg,
    reason: Annotated[str, typer.Option(help="why the correction", show_default=False)],
    project: Annotated[str, typer.Option(help="the project given money back",
                                         show_default=False)],
    amount: Annotated[str, typer.Option(help="how much, e.g. 5.25", show_default=False)],
    description: Annotated[str, typer.Option(help="the line's text")] = "correction",
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Correct a final invoice with a credit note (a draft: finalize it too) (operators)."""
    body = {"reason": reason, "lines": [{"project": project, "amount": amount,
                                         "description": description}]}
    call_api(lambda c: c.credit_note(invoice, body), output)


@app.command("export")
def export(
    invoice: InvoiceArg,
    fmt: Annotated[str, typer.Option(
        "--format", help="csv, focus (FOCUS 1.x columns), or pdf (one page per project)")
                   ] = "csv",
    out: Annotated[Path | None, typer.Option(
        "--out", help="write to this file (default: standard output)")] = None,
    project: Annotated[str | None, typer.Option(
        help="only this project's part (ORG:PROJECT or id): a PI may export their own")
                       ] = None,
) -> None:
    """Print an invoice's lines as CSV, or write it as PDF."""
    with connect() as client:
        data = (client.export_invoice_pdf(invoice, project) if fmt == "pdf"
                else client.export_invoice(invoice, fmt, project).encode())
    if out is not None:
        out.write_bytes(data)
        typer.echo(f"wrote {out} ({len(data)} bytes)")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
