"""Exporters: serve a node's disk image over NBD (qemu-nbd, or the fake)."""

from ocx.drivers.export.base import Export, Exporter, SourceFormat

__all__ = ["Export", "Exporter", "SourceFormat"]
