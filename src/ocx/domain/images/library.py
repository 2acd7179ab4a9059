"""The image library: upload, list, show, clone, snapshot and remove images.

Each change records the wish in a row and journals the operation that asks the backend
(import the staged upload, clone, snapshot, delete); the row becomes ``available`` (or
goes away) when the operation is done. An image is public (``project_id`` is None,
published by operators) or a project's; a tenant never learns of another project's
images: they answer 404 like images that do not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import access
from ocx.domain.baremetal.models import Node
from ocx.domain.identity import service as identity
from ocx.domain.identity.models import Project
from ocx.domain.images import schemas
from ocx.domain.images.models import Image, NodeImage
from ocx.domain.images.states import IN_USE, ImageKind, ImageState
from ocx.domain.images.uploads import StagedUpload
from ocx.domain.operations import service as operations
from ocx.domain.operations.models import Operation
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, InvalidInput, NotFound
from ocx.persistence.base import as_uuid
from ocx.persistence.db import flush_unique
from ocx.persistence.pagination import Page, paginate

IMPORT = "image.import"
CLONE = "image.clone"
SNAPSHOT = "image.snapshot"
DELETE = "image.delete"
# A store that keeps failing should fail the operation in minutes, not hours.
MAX_ATTEMPTS = 4


def image_target(image: Image) -> Target:
    """The policy target of an image: its project, or none for a public image."""
    return Target() if image.project is None else identity.project_target(image.project)


def backend_name(image: Image) -> str:
    """The name the backend keeps ``image`` under (never anything a user typed)."""
    return f"img-{image.id.hex}"


def _visible(stmt: Select[Any], actor: Actor) -> Select[Any]:
    """``stmt`` narrowed to public images and the projects the actor may see."""
    scope = policy.visible_project_scope(actor)
    if scope is None:
        return stmt
    project_ids, org_ids = scope
    of_orgs = select(Project.id).where(Project.organization_id.in_(org_ids))
    return stmt.where(or_(Image.project_id.is_(None), Image.project_id.in_(project_ids),
                          Image.project_id.in_(of_orgs)))


def find_image(session: Session, actor: Actor, ref: str, *, project_id: uuid.UUID | None = None,
               action: Action = Action.IMAGE_READ) -> Image:
    """An image by id, ``PROJECT/NAME``, or a name: that of ``project_id`` (default: of the
    actor's projects), else the public one, else the only visible one; then authorized
    for ``action``.

    Raises:
        NotFound: no such image the actor may see.
        Conflict: a bare name several visible projects use.
        Forbidden: the actor sees it but may not take ``action``.
    """
    image = _lookup(session, actor, ref, project_id)
    if image is None or not policy.can(actor, Action.IMAGE_READ, image_target(image)):
        raise NotFound("image not found")
    policy.authorize(actor, action, image_target(image))
    return image


def _lookup(session: Session, actor: Actor, ref: str,
            project_id: uuid.UUID | None) -> Image | None:
    ref_id = as_uuid(ref)
    if ref_id is not None:
        return session.get(Image, ref_id)
    project_ref, _, name = ref.strip().lower().rpartition("/")
    stmt: Select[Any] = _visible(select(Image).where(Image.name == name), actor)
    if project_ref:
        try:
            project = identity.find_project(session, project_ref, actor)
        except NotFound:
            return None
        found_in: Image | None = session.scalar(stmt.where(Image.project_id == project.id))
        return found_in
    found: list[Image] = list(session.scalars(stmt))
    mine = (project_id,) if project_id is not None else tuple(actor.project_roles)
    own = [image for image in found if image.project_id in mine]
    public = [image for image in found if image.project_id is None]
    for group in (own, public, found):
        if len(group) > 1:
            raise Conflict(f"several projects have an image called {name}; "
                           "name it as PROJECT/NAME or by its id")
        if group:
            return group[0]
    return None


def list_images(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                project: str | None = None, public: bool | None = None) -> Page[Image]:
    """Public images and those of the projects the actor may see (operators: all)."""
    policy.authorize(actor, Action.IMAGE_LIST)
    stmt = _visible(select(Image), actor)
    if project:
        stmt = stmt.where(Image.project_id == identity.get_project(session, actor, project).id)
    if public is not None:
        stmt = stmt.where(Image.project_id.is_(None) if public else Image.project_id.is_not(None))
    return paginate(session, stmt, Image, cursor=cursor, limit=limit)


def in_use_by(session: Session, image_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The nodes that boot from a clone of each image (by image id)."""
    rows = session.execute(select(NodeImage.image_id, Node.name).join(Node).where(
        NodeImage.image_id.in_(image_ids), NodeImage.state.in_(IN_USE)).order_by(Node.name))
    found: dict[uuid.UUID, list[str]] = {}
    for image_id, node in rows:
        found.setdefault(image_id, []).append(node)
    return found


# --- upload --------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadPlan:
    """Where an upload will go, settled (and authorized) before its bytes are read."""

    name: str
    project_id: uuid.UUID | None
    backend: str
    description: str


def plan_upload(session: Session, actor: Actor, body: schemas.ImageUpload,
                backend: str) -> UploadPlan:
    """Check an upload before receiving it: who may, and that the name is free.

    Raises:
        NotFound: the project is not visible. Forbidden: not its PI or manager (or, for a
            public image, not an operator). Conflict: the name is taken.
    """
    project = None
    if body.project is None:
        policy.authorize(actor, Action.IMAGE_PUBLISH)
    else:
        project = identity.find_project(session, body.project, actor)
        policy.authorize(actor, Action.IMAGE_UPLOAD, identity.project_target(project))
    plan = UploadPlan(name=body.name, project_id=project.id if project else None,
                      backend=backend, description=body.description)
    _check_name_free(session, plan.project_id, plan.name)
    return plan


def _check_name_free(session: Session, project_id: uuid.UUID | None, name: str) -> None:
    owner = Image.project_id.is_(None) if project_id is None else Image.project_id == project_id
    if session.scalar(select(exists().where(owner, Image.name == name))):
        where = "a public image" if project_id is None else "an image of this project"
        raise Conflict(f"there is already {where} called {name}")


def _journal(session: Session, actor: Actor, image: Image, kind: str,
             payload: dict[str, str]) -> Operation:
    # A new key each time: removing again after a failed removal is a new attempt.
    return operations.enqueue(session, actor, kind=kind, target=("image", image.id),
                              idempotency_key=f"{kind}:{image.id}:{uuid.uuid4()}",
                              payload={"image": image.name, **payload},
                              max_attempts=MAX_ATTEMPTS)


def _add(session: Session, actor: Actor, image: Image, action: str) -> None:
    session.add(image)
    flush_unique(session, f"image {image.name}")
    org_id = image.project.organization_id if image.project else None
    audit.record(session, actor, action, "image", image.id, organization_id=org_id,
                 changes={"name": image.name, "kind": image.kind.value,
                          "project_id": str(image.project_id) if image.project_id else None})


def create_uploaded(session: Session, actor: Actor, plan: UploadPlan,
                    staged: StagedUpload) -> tuple[Image, Operation]:
    """Record a checked upload and journal its import into the backend."""
    _check_name_free(session, plan.project_id, plan.name)
    project = session.get(Project, plan.project_id) if plan.project_id else None
    image = Image(id=uuid.uuid4(), project=project, project_id=plan.project_id, name=plan.name,
                  description=plan.description, kind=ImageKind.GOLDEN, backend=plan.backend,
                  checksum_sha256=staged.sha256, state=ImageState.UPLOADING,
                  created_by=actor.user_id)
    _add(session, actor, image, "image.upload")
    return image, _journal(session, actor, image, IMPORT, {"staged": str(staged.path)})


# --- clone, snapshot, remove -----------------------------------------------------------


def _destination(session: Session, actor: Actor, ref: str, action: Action) -> Project:
    project = identity.find_project(session, ref, actor)
    policy.authorize(actor, action, identity.project_target(project))
    return project


def _derived(session: Session, actor: Actor, *, name: str, project: Project, kind: ImageKind,
             parent: Image, backend: str, description: str) -> Image:
    _check_name_free(session, project.id, name)
    image = Image(id=uuid.uuid4(), project=project, project_id=project.id, name=name,
                  description=description, kind=kind, backend=backend, format=parent.format,
                  size_bytes=parent.size_bytes, state=ImageState.CREATING, parent_id=parent.id,
                  created_by=actor.user_id)
    _add(session, actor, image, f"image.{kind.value}")
    return image


def clone_image(session: Session, actor: Actor,
                body: schemas.ImageClone) -> tuple[Image, Operation]:
    """A copy-on-write clone of an image, as a new image of a project (its PI, managers).

    Raises:
        NotFound, Forbidden: see :func:`find_image`. Conflict: the source is not
            available, or the name is taken.
    """
    project = _destination(session, actor, body.project, Action.IMAGE_CLONE)
    source = find_image(session, actor, body.source, project_id=project.id)
    if source.state is not ImageState.AVAILABLE:
        raise Conflict(f"image {source.name} is {source.state.value}, not available")
    image = _derived(session, actor, name=body.name, project=project, kind=ImageKind.CLONE,
                     parent=source, backend=source.backend, description=body.description)
    return image, _journal(session, actor, image, CLONE, {"source": str(source.backend_ref)})


def snapshot_node(session: Session, actor: Actor,
                  body: schemas.ImageSnapshot) -> tuple[Image, Operation]:
    """Freeze a node's disk (the clone it boots from) into a new image of a project.

    Raises:
        NotFound: no such node, or the actor may not see the project.
        Forbidden: the actor does not use the node now.
        Conflict: the node boots from no clone, or the name is taken.
    """
    node = access.find_node(session, body.node)
    policy.authorize(actor, Action.IMAGE_SNAPSHOT, access.node_target(session, node))
    disk = session.scalar(select(NodeImage).where(NodeImage.node_id == node.id))
    if disk is None or disk.clone_ref is None or disk.state not in IN_USE:
        raise Conflict(f"node {node.name} boots from no clone of an image to snapshot")
    project = _snapshot_project(session, actor, body.project, disk)
    image = _derived(session, actor, name=body.name, project=project, kind=ImageKind.SNAPSHOT,
                     parent=disk.image, backend=disk.backend, description=body.description)
    return image, _journal(session, actor, image, SNAPSHOT,
                           {"node": node.name, "source": disk.clone_ref})


def _snapshot_project(session: Session, actor: Actor, ref: str | None,
                      disk: NodeImage) -> Project:
    """The project the disk was made for (its user may freeze it there), or another one the
    actor may upload to."""
    if ref is not None:
        return _destination(session, actor, ref, Action.IMAGE_UPLOAD)
    project = session.get(Project, disk.project_id) if disk.project_id else None
    if project is None:
        raise InvalidInput("name the project the snapshot belongs to (project)")
    return project


def delete_image(session: Session, actor: Actor, ref: str) -> tuple[Image, Operation]:
    """Remove an image; refused while a node boots from it or images depend on it.

    Raises:
        NotFound, Forbidden: see :func:`find_image`.
        Conflict: in use by a node, has clones or snapshots, or is being made.
    """
    image = find_image(session, actor, ref, action=Action.IMAGE_DELETE)
    nodes = in_use_by(session, [image.id]).get(image.id)
    if nodes:
        raise Conflict(f"image {image.name} is in use by node(s) {', '.join(nodes)}")
    children = session.scalar(select(func.count()).where(Image.parent_id == image.id))
    if children:
        raise Conflict(f"image {image.name} has {children} clone(s) or snapshot(s) that "
                       "depend on it; remove them first")
    if image.state in (ImageState.UPLOADING, ImageState.CREATING):
        raise Conflict(f"image {image.name} is still being {image.state.value}")
    image.state = ImageState.DELETING
    audit.record(session, actor, "image.delete", "image", image.id,
                 organization_id=image.project.organization_id if image.project else None)
    return image, _journal(session, actor, image, DELETE, {})
