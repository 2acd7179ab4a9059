"""Billing: the price book's rules, rating usage spans, invoices, credits and reports."""
