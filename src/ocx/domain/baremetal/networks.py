"""Project networks: one VLAN id each, taken from the site's pool.

The lowest free id is picked; the unique (site, vlan) constraint settles races (two
requests picking the same id: the second's insert fails, it picks again), so the pool
never hands one id out twice and an exhausted pool answers 409.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import access, schemas
from ocx.domain.baremetal.models import Network, NetworkAttachment, Site
from ocx.domain.identity import service as identity
from ocx.domain.identity.models import Project
from ocx.domain.policy import Action
from ocx.errors import Conflict
from ocx.persistence.pagination import Page, paginate

ALLOCATION_ATTEMPTS = 20


def free_vlan(session: Session, site: Site) -> int:
    """The lowest VLAN id of the site's pool that no network uses.

    Raises:
        Conflict: the pool is exhausted.
    """
    used = set(session.scalars(select(Network.vlan).where(Network.site_id == site.id)))
    for vlan in range(site.vlan_min, site.vlan_max + 1):
        if vlan not in used:
            return vlan
    raise Conflict(f"the VLAN pool of site {site.name} ({site.vlan_min}-{site.vlan_max}) is "
                   f"exhausted: all {site.vlan_max - site.vlan_min + 1} ids are in use")


def _name_taken(session: Session, project: Project, name: str) -> bool:
    return session.scalar(select(Network.id).where(Network.project_id == project.id,
                                                   Network.name == name)) is not None


def create_network(session: Session, actor: Actor, body: schemas.NetworkCreate) -> Network:
    """Create a project network at a site, with a VLAN id from the site's pool."""
    project = identity.find_project(session, body.project, actor)
    policy.authorize(actor, Action.NETWORK_CREATE, identity.project_target(project))
    site = access.find_site(session, body.site)
    for _ in range(ALLOCATION_ATTEMPTS):
        if _name_taken(session, project, body.name):
            raise Conflict(f"project {project.name} already has a network {body.name}")
        network = Network(site_id=site.id, project_id=project.id, name=body.name,
                          vlan=free_vlan(session, site))
        try:
            with session.begin_nested():
                session.add(network)
        except IntegrityError:
            continue  # another request took this id (or the name) first: look again
        audit.record(session, actor, "network.create", "network", network.id,
                     organization_id=project.organization_id,
                     changes={"name": body.name, "project": project.name, "site": site.name,
                              "vlan": network.vlan})
        return network
    raise Conflict(f"could not allocate a VLAN id at site {site.name}: too many concurrent "
                   "requests; try again")


def list_networks(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                  project: str | None = None) -> Page[Network]:
    """Networks of the projects the actor may see, or of one project."""
    policy.authorize(actor, Action.NETWORK_LIST)
    stmt = select(Network).options(joinedload(Network.site), joinedload(Network.project)
                                   .joinedload(Project.organization))
    if project:
        found = identity.get_project(session, actor, project)
        stmt = stmt.where(Network.project_id == found.id)
    elif (scope := policy.visible_project_scope(actor)) is not None:
        project_ids, org_ids = scope
        stmt = stmt.join(Project).where(or_(Project.id.in_(project_ids),
                                            Project.organization_id.in_(org_ids)))
    return paginate(session, stmt, Network, cursor=cursor, limit=limit)


def get_network(session: Session, actor: Actor, ref: str,
                action: Action = Action.NETWORK_READ) -> Network:
    """One network the actor may take ``action`` on."""
    network = access.find_network(session, ref)
    policy.authorize(actor, action, identity.project_target(network.project))
    return network


def delete_network(session: Session, actor: Actor, ref: str) -> None:
    """Delete a network no NIC carries; its VLAN id returns to the pool."""
    network = get_network(session, actor, ref, Action.NETWORK_DELETE)
    if session.scalar(select(NetworkAttachment.id)
                      .where(NetworkAttachment.network_id == network.id).limit(1)):
        raise Conflict(f"network {network.name} is still connected to nodes; detach them first")
    audit.record(session, actor, "network.delete", "network", network.id,
                 organization_id=network.project.organization_id,
                 changes={"name": network.name, "vlan": network.vlan})
    session.delete(network)
