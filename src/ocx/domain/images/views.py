"""Images as the API shows them: projects and parents by name, and the nodes using them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.baremetal.views import project_label
from ocx.domain.images import schemas
from ocx.domain.images.library import in_use_by
from ocx.domain.images.models import Image
from ocx.domain.operations.models import Operation


def images(session: Session, rows: Sequence[Image],
           operation: Operation | None = None) -> list[schemas.ImagePublic]:
    """``rows`` with their project, parent and users; ``operation``: the one just journalled."""
    using = in_use_by(session, [row.id for row in rows])
    parent_ids = {row.parent_id for row in rows if row.parent_id is not None}
    parents: dict[uuid.UUID, str] = {
        parent_id: name for parent_id, name in session.execute(
            select(Image.id, Image.name).where(Image.id.in_(parent_ids)))} if parent_ids else {}
    return [schemas.ImagePublic(
        id=row.id, name=row.name, project=project_label(row.project) if row.project else None,
        project_id=row.project_id, public=row.project_id is None, kind=row.kind,
        state=row.state, backend=row.backend, format=row.format, size_bytes=row.size_bytes,
        checksum_sha256=row.checksum_sha256, parent_id=row.parent_id,
        parent=parents.get(row.parent_id) if row.parent_id else None,
        description=row.description, error=row.error, in_use_by=using.get(row.id, []),
        operation_id=operation.id if operation else None, created_at=row.created_at)
        for row in rows]
