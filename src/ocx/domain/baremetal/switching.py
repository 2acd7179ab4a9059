"""Applying queued port changes to switches, in batches (HIL's deferred networking loop).

An operation that queued port changes on a switch first claims *every* pending change
of that switch (a compare-and-set: concurrent operations cannot claim the same rows),
computes each touched port's whole configuration from its NIC's attachments, and
applies them in one driver session. Operations whose changes were carried by another's
batch find them done and finish at once. A temporary failure puts the changes back to
pending (the operation is retried); a refusal is narrowed down port by port, so one bad
port does not fail its neighbours, and a refused port's wishes are rolled back: what the
database says a port carries is what the switch carries.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ocx.domain.baremetal.models import NetworkAttachment, Nic, PortChange, Switch, SwitchPort
from ocx.domain.baremetal.states import AttachmentMode, AttachmentState, PortChangeState
from ocx.domain.operations.handlers import HandlerContext
from ocx.drivers import stored_settings as driver_settings
from ocx.drivers.switch import PortConfig, SwitchDriver
from ocx.errors import DriverError, OcxError, PermanentDriverError
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

# A claim older than this belongs to a batch whose worker died; another may take it over.
STALE_CLAIM_S = 120.0
# How long an operation waits for another operation's batch to carry its changes.
WAIT_FOR_BATCH_S = 30.0
POLL_S = 0.1


@dataclass
class Batch:
    """The changes one operation claimed on one switch, and what to set."""

    switch_name: str
    driver: str
    settings: dict[str, Any]
    changes: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # port -> change ids
    configs: dict[str, PortConfig] = field(default_factory=dict)  # port -> config
    wanted: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # attaching ids
    unwanted: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # detaching ids


def switches_of(session: Session, operation_id: uuid.UUID) -> list[uuid.UUID]:
    """The switches an operation queued port changes on."""
    return list(session.scalars(select(PortChange.switch_id).distinct()
                                .where(PortChange.operation_id == operation_id)))


def port_config(port: str, attachments: list[NetworkAttachment]) -> PortConfig:
    """What a port carries given its NIC's wanted attachments."""
    access_vlan = next((a.network.vlan for a in attachments
                        if a.mode is AttachmentMode.ACCESS), None)
    tagged = frozenset(a.network.vlan for a in attachments if a.mode is AttachmentMode.TAGGED)
    return PortConfig(port, access_vlan=access_vlan, trunk_vlans=tagged)


def claim(session: Session, operation_id: uuid.UUID, switch_id: uuid.UUID) -> Batch | None:
    """Claim every pending (or abandoned) change of the switch; None if nothing is ours."""
    now = utcnow()
    abandoned = now - timedelta(seconds=STALE_CLAIM_S)
    session.execute(
        update(PortChange)
        .where(PortChange.switch_id == switch_id,
               (PortChange.state == PortChangeState.PENDING)
               | ((PortChange.state == PortChangeState.APPLYING)
                  & (PortChange.claimed_at < abandoned)))
        .values(state=PortChangeState.APPLYING, claimed_by=operation_id, claimed_at=now)
        .execution_options(synchronize_session=False))
    rows = session.execute(
        select(PortChange.id, SwitchPort.id, SwitchPort.name).join(SwitchPort)
        .where(PortChange.switch_id == switch_id, PortChange.claimed_by == operation_id,
               PortChange.state == PortChangeState.APPLYING)).all()
    if not rows:
        return None
    switch = session.get(Switch, switch_id)
    assert switch is not None  # port changes cascade with their switch
    batch = Batch(switch_name=switch.name, driver=switch.driver, settings=dict(switch.settings))
    port_ids = {}
    for change_id, port_id, port_name in rows:
        batch.changes.setdefault(port_name, []).append(change_id)
        port_ids[port_name] = port_id
    for port_name, port_id in port_ids.items():
        _plan_port(session, batch, port_name, port_id)
    return batch


def _plan_port(session: Session, batch: Batch, port: str, port_id: uuid.UUID) -> None:
    attachments = list(session.scalars(select(NetworkAttachment).join(Nic)
                                       .where(Nic.port_id == port_id)))
    keep = [a for a in attachments if a.state is not AttachmentState.DETACHING]
    batch.configs[port] = port_config(port, keep)
    batch.wanted[port] = [a.id for a in keep if a.state is AttachmentState.ATTACHING]
    batch.unwanted[port] = [a.id for a in attachments if a.state is AttachmentState.DETACHING]


def record(session: Session, batch: Batch, port: str, error: str | None) -> None:
    """Settle one port: its changes done and its wishes true, or failed and rolled back."""
    now = utcnow()
    state = PortChangeState.DONE if error is None else PortChangeState.FAILED
    session.execute(update(PortChange).where(PortChange.id.in_(batch.changes[port]))
                    .values(state=state, finished_at=now, error=error)
                    .execution_options(synchronize_session=False))
    wanted = NetworkAttachment.id.in_(batch.wanted[port])
    unwanted = NetworkAttachment.id.in_(batch.unwanted[port])
    attaching = NetworkAttachment.state == AttachmentState.ATTACHING
    detaching = NetworkAttachment.state == AttachmentState.DETACHING
    if error is None:
        session.execute(update(NetworkAttachment).where(wanted, attaching)
                        .values(state=AttachmentState.ATTACHED)
                        .execution_options(synchronize_session=False))
        session.execute(delete(NetworkAttachment).where(unwanted, detaching)
                        .execution_options(synchronize_session=False))
    else:
        session.execute(delete(NetworkAttachment).where(wanted, attaching)
                        .execution_options(synchronize_session=False))
        session.execute(update(NetworkAttachment).where(unwanted, detaching)
                        .values(state=AttachmentState.ATTACHED)
                        .execution_options(synchronize_session=False))


def release(session: Session, batch: Batch) -> None:
    """Give the batch's changes back to the queue (a temporary failure: retried later)."""
    ids = [change for changes in batch.changes.values() for change in changes]
    session.execute(update(PortChange).where(PortChange.id.in_(ids))
                    .values(state=PortChangeState.PENDING, claimed_by=None, claimed_at=None)
                    .execution_options(synchronize_session=False))


def run_batch(ctx: HandlerContext, batch: Batch) -> dict[str, str | None]:
    """Apply the batch in one switch session; each port's error (None: applied)."""
    try:
        driver = driver_settings.build(ctx.drivers, ctx.sealer, SwitchDriver, batch.driver,
                                       batch.settings)
        outcome = _apply(driver, batch)
    except PermanentDriverError as exc:
        outcome = dict.fromkeys(batch.configs, exc.message)
    except DriverError:
        with transaction(ctx.sessions) as session:
            release(session, batch)
        raise
    except OcxError as exc:  # settings that no longer validate, a secret that won't unseal
        outcome = dict.fromkeys(batch.configs, exc.message)
    with transaction(ctx.sessions) as session:
        for port, error in outcome.items():
            record(session, batch, port, error)
    return outcome


def _apply(driver: SwitchDriver, batch: Batch) -> dict[str, str | None]:
    """All ports in one session; after a refusal, each port alone to find the bad ones."""
    try:
        driver.apply(list(batch.configs.values()))
        return dict.fromkeys(batch.configs)
    except PermanentDriverError as exc:
        if len(batch.configs) == 1:
            return dict.fromkeys(batch.configs, exc.message)
        return _port_by_port(driver, batch)


def _port_by_port(driver: SwitchDriver, batch: Batch) -> dict[str, str | None]:
    """After a refused batch: which ports the switch refuses, each on its own."""
    outcome: dict[str, str | None] = {}
    for port, config in batch.configs.items():
        try:
            driver.apply([config])
            outcome[port] = None
        except PermanentDriverError as exc:
            outcome[port] = exc.message
    return outcome


def _my_changes(ctx: HandlerContext, operation_id: uuid.UUID,
                switch_id: uuid.UUID) -> list[PortChange]:
    with ctx.sessions() as session:
        return list(session.scalars(select(PortChange).where(
            PortChange.operation_id == operation_id, PortChange.switch_id == switch_id)))


def apply_switch(ctx: HandlerContext, operation_id: uuid.UUID,
                 switch_id: uuid.UUID) -> dict[str, Any]:
    """Make the switch carry this operation's changes, batched with any others pending.

    Raises:
        DriverError: the switch is unreachable, or another operation's batch carrying
            these changes is still running (retried).
        PermanentDriverError: the switch refused one of this operation's ports.
    """
    deadline = time.monotonic() + WAIT_FOR_BATCH_S
    batched = 0
    while True:
        with transaction(ctx.sessions) as session:
            batch = claim(session, operation_id, switch_id)
        if batch is not None:
            batched += len(run_batch(ctx, batch))
        mine = _my_changes(ctx, operation_id, switch_id)
        failed = [c.error for c in mine if c.state is PortChangeState.FAILED]
        if failed:
            raise PermanentDriverError(f"the switch refused: {failed[0]}")
        if all(c.state is PortChangeState.DONE for c in mine):
            return {"ports": len(mine), "batched_ports": batched,
                    "applied_by": sorted({str(c.claimed_by) for c in mine})}
        if time.monotonic() > deadline:
            raise DriverError("another operation's batch on this switch is still running")
        time.sleep(POLL_S)


def apply_changes(ctx: HandlerContext, operation_id: uuid.UUID) -> dict[str, Any]:
    """Apply every port change an operation queued, switch by switch."""
    with ctx.sessions() as session:
        switches = switches_of(session, operation_id)
    return {"switches": {str(switch_id): apply_switch(ctx, operation_id, switch_id)
                         for switch_id in switches}}
