"""Billing enumerations, free of SQLAlchemy (the CLI imports them)."""

from __future__ import annotations

from enum import StrEnum


class InvoiceState(StrEnum):
    """A draft may be regenerated (it is replaced); a final invoice never changes."""

    DRAFT = "draft"
    FINAL = "final"


class InvoiceKind(StrEnum):
    """An invoice for a month, or a credit note correcting a final invoice."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class ExportFormat(StrEnum):
    """How an invoice is exported: plain CSV, FOCUS 1.x columns, or PDF project pages."""

    CSV = "csv"
    FOCUS = "focus"
    PDF = "pdf"
