"""RBAC expectations for suspending allocations (merged into the matrix in
``tests/integration/api/test_rbac_matrix.py``): the provider's admins and operators."""

from __future__ import annotations

from ocx.domain.allocations.states import AllocationState
from ocx.runtime import Runtime
from tests.integration.api.rbac_market import A, _allocation
from tests.support.rbac import Case, only
from tests.support.world import World


def _disabled(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    return _allocation(runtime, world, s, AllocationState.DISABLED)


SUSPENSION_CASES: dict[str, Case] = {
    "allocation.decide/disable": Case("POST", A + "/disable", only("admin"),
                                      setup=_allocation,
                                      body=lambda w, s: {"reason": "suspended for review"}),
    "allocation.decide/enable": Case("POST", A + "/enable", only("admin"), setup=_disabled,
                                     body=lambda w, s: {"reason": "reviewed"}),
}
