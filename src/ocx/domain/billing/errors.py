"""Billing errors (mapped to HTTP with every other ``OcxError``)."""

from __future__ import annotations

from ocx.errors import Conflict


class Unpriced(Conflict):
    """Usage that the price book does not price: no rule for its meter, or no rate in force.

    Billing refuses to guess (nothing is silently free); fix the price book and generate
    the invoice again.
    """

    type = "unpriced_usage"


class InvoiceFinal(Conflict):
    """A final invoice never changes; corrections are credit notes."""

    type = "invoice_final"
