"""Marketplace: providers, their offerings, plans and dated rates."""
