"""Allocations: a project's share of an offering, and keeping the provider in line with it."""
