"""Drivers: small typed interfaces to outside systems, found by entry points, chosen by config."""
