"""Images: the library of golden images, their clones, and snapshots of nodes' disks.

An upload streams the image's bytes as the request body (``application/octet-stream``)
with its name, project and SHA-256 as query parameters; the bytes are checked on
arrival (a mismatch answers 422 and keeps nothing) and the answer is 202 with the image,
``uploading``, and the operation storing it. Clones, snapshots and removals also answer
202 with the operation doing them; follow it at ``/api/v1/operations/{id}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ocx.api.deps import ActorDep, PageDep, RuntimeDep, SessionDep, declares
from ocx.api.pages import PageOut
from ocx.domain.actor import Actor
from ocx.domain.identity import onboarding, tokens
from ocx.domain.images import library, schemas, uploads, views
from ocx.domain.images.backends import check_backend
from ocx.domain.images.library import UploadPlan
from ocx.domain.images.uploads import StagedUpload
from ocx.domain.policy import Action
from ocx.logging import request_id_var
from ocx.persistence.db import transaction
from ocx.runtime import Runtime

router = APIRouter(prefix="/images", tags=["images"])
ImageRef = Annotated[str, Path(max_length=200, description="image id, PROJECT/NAME or NAME")]
_bearer = HTTPBearer(auto_error=False, description="an OCX API token (ocx token create)")
RAW_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


def _plan(runtime: Runtime, bearer: str | None, request_id: str,
          body: schemas.ImageUpload) -> tuple[Actor, UploadPlan]:
    """Authenticate and settle the upload in a short transaction of its own: the request's
    usual one would hold the database's write lock while the bytes arrive."""
    with transaction(runtime.sessions) as session:
        actor = tokens.authenticate(session, bearer, request_id)
        onboarding.require_terms(session, actor, runtime.settings, Action.IMAGE_UPLOAD.value)
        backend = check_backend(runtime.drivers, body.backend or runtime.settings.image_backend)
        return actor, library.plan_upload(session, actor, body, backend)


def _record(runtime: Runtime, actor: Actor, plan: UploadPlan,
            staged: StagedUpload) -> schemas.ImagePublic:
    with transaction(runtime.sessions) as session:
        image, op = library.create_uploaded(session, actor, plan, staged)
        return views.images(session, [image], op)[0]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=schemas.ImagePublic,
             openapi_extra={**declares(Action.IMAGE_UPLOAD)["openapi_extra"], **RAW_BODY})
async def upload_image(
    request: Request, runtime: RuntimeDep, body: Annotated[schemas.ImageUpload, Query()],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> schemas.ImagePublic:
    """Upload a golden image (raw or qcow2) for a project (its PI, managers), or a public
    one (operators); the body is the image, streamed, checked against ``sha256``."""
    bearer = credentials.credentials if credentials else None
    actor, plan = await run_in_threadpool(_plan, runtime, bearer, request_id_var.get(), body)
    staged = await uploads.receive(request.stream(), runtime.settings.image_staging_dir,
                                   runtime.settings.image_max_upload_bytes)
    try:
        uploads.verify(staged, body.sha256)
        return await run_in_threadpool(_record, runtime, actor, plan, staged)
    except BaseException:
        staged.discard()
        raise


@router.get("", response_model=PageOut[schemas.ImagePublic], **declares(Action.IMAGE_LIST))
def list_images(
    actor: ActorDep, session: SessionDep, page: PageDep,
    project: Annotated[str | None, Query(max_length=130)] = None,
    public: Annotated[bool | None, Query(description="only public, or only projects'")] = None,
) -> PageOut[schemas.ImagePublic]:
    """Public images and your projects' images (operators: all)."""
    found = library.list_images(session, actor, cursor=page.cursor, limit=page.limit,
                                project=project, public=public)
    return PageOut[schemas.ImagePublic](items=views.images(session, found.items),
                                        next_cursor=found.next_cursor)


@router.post("/clones", status_code=status.HTTP_202_ACCEPTED,
             response_model=schemas.ImagePublic, **declares(Action.IMAGE_CLONE))
def clone_image(body: schemas.ImageClone, actor: ActorDep,
                session: SessionDep) -> schemas.ImagePublic:
    """Clone an image copy-on-write into a new image of your project (PI, managers)."""
    image, op = library.clone_image(session, actor, body)
    return views.images(session, [image], op)[0]


@router.post("/snapshots", status_code=status.HTTP_202_ACCEPTED,
             response_model=schemas.ImagePublic, **declares(Action.IMAGE_SNAPSHOT))
def snapshot_node(body: schemas.ImageSnapshot, actor: ActorDep,
                  session: SessionDep) -> schemas.ImagePublic:
    """Freeze the disk a node boots from into a new image (the node's user)."""
    image, op = library.snapshot_node(session, actor, body)
    return views.images(session, [image], op)[0]


@router.get("/{image:path}", response_model=schemas.ImagePublic, **declares(Action.IMAGE_READ))
def show_image(image: ImageRef, actor: ActorDep, session: SessionDep) -> schemas.ImagePublic:
    """One image: its state, size, checksum, parent and the nodes using it."""
    return views.images(session, [library.find_image(session, actor, image)])[0]


@router.delete("/{image:path}", status_code=status.HTTP_202_ACCEPTED,
               response_model=schemas.ImagePublic, **declares(Action.IMAGE_DELETE))
def remove_image(image: ImageRef, actor: ActorDep, session: SessionDep) -> schemas.ImagePublic:
    """Remove an image (409 while a node uses it or clones depend on it)."""
    row, op = library.delete_image(session, actor, image)
    return views.images(session, [row], op)[0]
