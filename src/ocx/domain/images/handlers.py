"""The image operations: store a checked upload, clone, snapshot and delete in a backend.

Each handler reads the image's row, calls its backend outside any transaction, and
records the result. A step that fails for good marks the image ``error`` with the
backend's reason and removes whatever it left half-made in the backend (and the staged
upload), so a failed image holds no storage; the row stays to say why, until removed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocx.domain.images import library
from ocx.domain.images.backends import image_backend
from ocx.domain.images.models import Image
from ocx.domain.images.states import ImageState
from ocx.domain.operations.handlers import Handler, HandlerContext, HandlerRegistry, OperationRef
from ocx.drivers.image import ImageBackend, ImageRef
from ocx.errors import DriverError, PermanentDriverError
from ocx.persistence.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """What a handler needs of the image it works on, read in a short session."""

    image_id: uuid.UUID
    name: str
    backend: ImageBackend
    ref: ImageRef | None


def _job(ctx: HandlerContext, op: OperationRef) -> Job | None:
    """The operation's image and its backend; None if the image is gone."""
    with ctx.sessions() as session:
        image = session.get(Image, uuid.UUID(op.target_id))
        if image is None:
            return None
        name, backend, ref = library.backend_name(image), image.backend, image.backend_ref
    return Job(image_id=uuid.UUID(op.target_id), name=name, backend=image_backend(ctx, backend),
               ref=ImageRef(ref) if ref else None)


def _available(ctx: HandlerContext, job: Job, ref: ImageRef) -> dict[str, Any]:
    size = job.backend.size(ref)
    with transaction(ctx.sessions) as session:
        image = session.get(Image, job.image_id)
        if image is not None:
            image.backend_ref, image.size_bytes = ref.key, size
            image.format, image.state, image.error = (job.backend.export_format,
                                                      ImageState.AVAILABLE, None)
    return {"backend_ref": ref.key, "size_bytes": size}


def import_upload(ctx: HandlerContext, op: OperationRef, job: Job) -> dict[str, Any]:
    """``image.import``: store the staged upload as a golden image, then drop the upload."""
    staged = Path(op.payload["staged"])
    ref = job.backend.import_image(job.name, staged)
    result = _available(ctx, job, ref)
    staged.unlink(missing_ok=True)
    return result


def clone(ctx: HandlerContext, op: OperationRef, job: Job) -> dict[str, Any]:
    """``image.clone``: a copy-on-write child of the source image."""
    return _available(ctx, job, job.backend.clone(ImageRef(op.payload["source"]), job.name))


def snapshot(ctx: HandlerContext, op: OperationRef, job: Job) -> dict[str, Any]:
    """``image.snapshot``: freeze a node's clone into the new image."""
    return _available(ctx, job, job.backend.snapshot(ImageRef(op.payload["source"]), job.name))


def delete(ctx: HandlerContext, op: OperationRef, job: Job) -> dict[str, Any]:
    """``image.delete``: remove it from its backend, then its row."""
    job.backend.delete(job.ref or ImageRef(job.name))
    with transaction(ctx.sessions) as session:
        image = session.get(Image, job.image_id)
        if image is not None:
            session.delete(image)
    return {"deleted": job.name}


Step = Callable[[HandlerContext, OperationRef, Job], "dict[str, Any]"]


def _fail(ctx: HandlerContext, op: OperationRef, job: Job, error: str) -> None:
    """Mark the image failed and remove what the step left half-made."""
    if op.kind != library.DELETE:
        try:
            job.backend.delete(ImageRef(job.name))
        except DriverError:
            log.warning("could not remove the half-made image %s", job.name, exc_info=True)
    if "staged" in op.payload:
        Path(op.payload["staged"]).unlink(missing_ok=True)
    with transaction(ctx.sessions) as session:
        image = session.get(Image, job.image_id)
        if image is not None:
            image.state, image.error = ImageState.ERROR, error


def on_image(step: Step) -> Handler:
    """``step``, run on the operation's image; a final failure is recorded on the image."""

    def run(ctx: HandlerContext, op: OperationRef) -> dict[str, Any] | None:
        job = _job(ctx, op)
        if job is None:
            if "staged" in op.payload:
                Path(op.payload["staged"]).unlink(missing_ok=True)
            return {"skipped": "the image no longer exists"}
        try:
            return step(ctx, op, job)
        except DriverError as exc:
            if isinstance(exc, PermanentDriverError) or op.last_attempt:
                _fail(ctx, op, job, exc.message)
            raise

    run.__doc__ = step.__doc__
    return run


def register(registry: HandlerRegistry) -> None:
    """Add every image handler to ``registry``."""
    registry.register(library.IMPORT, on_image(import_upload))
    registry.register(library.CLONE, on_image(clone))
    registry.register(library.SNAPSHOT, on_image(snapshot))
    registry.register(library.DELETE, on_image(delete))
