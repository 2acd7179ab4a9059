"""The shape of one RBAC matrix expectation, shared by the matrix and per-feature cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocx.runtime import Runtime
from tests.support.world import World


@dataclass(frozen=True)
class Case:
    """How to call one action against org ``s`` ("a" or "b"), and who may."""

    method: str
    path: str  # formatted with org, project, user (email of the member on that side)
    allowed: Callable[[str, bool], bool]  # (role, own side) -> allowed
    body: Callable[[World, str], dict[str, Any]] | None = None
    sided: bool = True
    # Creates what the call needs on side "a" or "b" and returns extra path values
    # (e.g. {"node": id}); for resources the shared world does not hold.
    setup: Callable[[Runtime, World, str], dict[str, str]] | None = None
    # A body that depends on who calls too: (world, side, caller's key in the world).
    actor_body: Callable[[World, str, str], dict[str, Any]] | None = None


def everyone(role: str, own: bool) -> bool:
    return True


def only(*roles: str, own_only: bool = True) -> Callable[[str, bool], bool]:
    def rule(role: str, own: bool) -> bool:
        return role == "operator" or (role in roles and (own or not own_only))
    return rule


PROJECT_PEOPLE = ("admin", "pi", "manager", "member")
LEADS = ("admin", "pi", "manager")

