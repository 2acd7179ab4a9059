"""Audit: an append-only record of every change and who made it."""
