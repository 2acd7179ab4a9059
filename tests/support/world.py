"""A small, fixed world of users and roles used by API and policy tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocx.domain.identity import tokens
from ocx.domain.identity.models import (
    Membership,
    Organization,
    OrgMembership,
    OrgRole,
    Project,
    ProjectRole,
    User,
)
from ocx.runtime import Runtime


@dataclass
class Person:
    """A user and a working API token for them."""

    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header for this person."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Organizations ``a`` and ``b``, with people named by role and org."""

    people: dict[str, Person] = field(default_factory=dict)
    org_ids: dict[str, str] = field(default_factory=dict)
    project_ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, who: str) -> Person:
        return self.people[who]


def _person(session, world: World, key: str, email: str, *, operator: bool = False) -> User:  # type: ignore[no-untyped-def]
    user = User(email=email, name=key.replace("_", " ").title(), is_operator=operator)
    session.add(user)
    session.flush()
    _, secret = tokens.issue(session, user, "test", 30)
    world.people[key] = Person(email=email, token=secret)
    return user


def build_world(runtime: Runtime) -> World:
    """Create the world in the database and return handles to it."""
    world = World()
    with runtime.sessions() as session, session.begin():
        _person(session, world, "operator", "operator@ocx.example.org", operator=True)
        _person(session, world, "outsider", "outsider@elsewhere.example.org")
        for side in ("a", "b"):
            org = Organization(name=f"org-{side}", display_name=f"Org {side.upper()}")
            session.add(org)
            session.flush()
            project = Project(organization_id=org.id, name=f"proj-{side}")
            session.add(project)
            session.flush()
            world.org_ids[side] = str(org.id)
            world.project_ids[side] = str(project.id)
            admin = _person(session, world, f"admin_{side}", f"admin@{side}.example.org")
            session.add(OrgMembership(organization_id=org.id, user_id=admin.id,
                                      role=OrgRole.ADMIN))
            for role in ProjectRole:
                email = f"{role.value}@{side}.example.org"
                user = _person(session, world, f"{role.value}_{side}", email)
                session.add(OrgMembership(organization_id=org.id, user_id=user.id))
                session.add(Membership(project_id=project.id, user_id=user.id, role=role))
    return world
