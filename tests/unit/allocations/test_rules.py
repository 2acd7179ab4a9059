"""Allocation rules that need no database: state moves, quotas, drift sentences."""

from __future__ import annotations

from typing import Any

import pytest

from ocx.domain.allocations.provisioning import Desired, converge, differences
from ocx.domain.allocations.service import check_quota
from ocx.domain.allocations.states import MOVES, AllocationState, check_move
from ocx.drivers.project import ProjectSpec, ProjectState, ProjectUser
from ocx.drivers.project.fake import FakeProject
from ocx.errors import Conflict, InvalidInput

S = AllocationState


class _Offering:
    name = "compute"
    components: list[dict[str, Any]] = [
        {"name": "cores", "unit": "core", "max": 64, "default": 4},
        {"name": "ram_mib", "unit": "MiB", "max": None, "default": None},
    ]


def test_every_state_has_its_moves_and_finals_have_none() -> None:
    assert set(MOVES) == set(S)
    assert MOVES[S.RELEASED] == MOVES[S.DENIED] == frozenset()
    check_move(S.REQUESTED, S.APPROVED)
    with pytest.raises(Conflict, match="the allocation is released; it cannot become active"):
        check_move(S.RELEASED, S.ACTIVE)


def test_quota_is_checked_and_filled() -> None:
    assert check_quota(_Offering(), {"cores": 8}, fill=True) == {"cores": 8, "ram_mib": 0}
    assert check_quota(_Offering(), {"cores": 8}, fill=False) == {"cores": 8}
    with pytest.raises(InvalidInput, match="no component gpus; it has cores, ram_mib"):
        check_quota(_Offering(), {"gpus": 1}, fill=True)
    with pytest.raises(InvalidInput, match="cores 65 exceeds the offering's max of 64"):
        check_quota(_Offering(), {"cores": 65}, fill=True)


def _want(**quota: int) -> Desired:
    users = {"u1": ProjectUser(user_id="u1", email="a@example.org")}
    return Desired(spec=ProjectSpec(allocation_id="alloc-1", name="ocx-t"), enabled=True,
                   quota=quota, users=users)


def test_differences_name_each_drift() -> None:
    have = ProjectState(external_id="x", enabled=False, quota={"cores": 99}, usage={},
                        users=frozenset({"u2"}))
    assert differences(_want(cores=8), have) == [
        "quota cores: provider has 99, OCX wants 8",
        "enabled: provider has False, OCX wants True",
        "user u1 missing",
        "user u2 should not have access",
    ]


def test_converge_is_idempotent_and_finds_its_tenant_again() -> None:
    driver = FakeProject(FakeProject.Settings(cloud="unit-converge"))
    first = converge(driver, _want(cores=8), None)
    again = converge(driver, _want(cores=8), None)  # as if the id was never saved
    assert first.external_id == again.external_id
    assert differences(_want(cores=8), again) == []
    driver.tamper(first.external_id, quota={"cores": 1}, users={"intruder": "member"})
    repaired = converge(driver, _want(cores=8), first.external_id)
    assert differences(_want(cores=8), repaired) == []
