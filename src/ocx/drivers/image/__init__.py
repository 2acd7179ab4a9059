"""Image backends: where golden images, clones and snapshots live (qcow2 files, Ceph RBD)."""

from ocx.drivers.image.base import ImageBackend, ImageRef

__all__ = ["ImageBackend", "ImageRef"]
