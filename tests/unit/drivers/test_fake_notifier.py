"""The fake notifier: one delivery per idempotency key, in memory or in a spool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocx.drivers.notifier import Notification
from ocx.drivers.notifier.fake import FakeNotifier, read_calls, read_spool
from ocx.errors import DriverError, PermanentDriverError


def _note(key: str = "k-1") -> Notification:
    return Notification(recipient="ada@example.org", subject="Hi", body="Hello",
                        idempotency_key=key)


def test_in_memory_delivers_each_key_once() -> None:
    fake = FakeNotifier(FakeNotifier.Settings())
    fake.send(_note("k-1"))
    fake.send(_note("k-1"))
    fake.send(_note("k-2"))
    assert sorted(fake.delivered) == ["k-1", "k-2"]
    assert fake.calls == 3


def test_spool_writes_one_file_per_key(tmp_path: Path) -> None:
    fake = FakeNotifier(FakeNotifier.Settings(spool_dir=tmp_path / "spool"))
    fake.send(_note("k-1"))
    fake.send(_note("k-1"))
    fake.send(_note("k-2"))
    delivered = read_spool(tmp_path / "spool")
    assert sorted(n.idempotency_key for n in delivered) == ["k-1", "k-2"]
    assert [p.name for p in (tmp_path / "spool").iterdir() if p.name.endswith(".tmp")] == []
    calls = read_calls(tmp_path / "spool")
    assert [(c["key"], c["delivered"]) for c in calls] == [
        ("k-1", True), ("k-1", False), ("k-2", True)]
    assert {c["pid"] for c in calls} == {os.getpid()}
    assert all(c["started"] <= c["ended"] for c in calls)


def test_second_instance_sees_the_first_ones_spool(tmp_path: Path) -> None:
    settings = FakeNotifier.Settings(spool_dir=tmp_path)
    FakeNotifier(settings).send(_note())
    FakeNotifier(settings).send(_note())
    assert len(read_spool(tmp_path)) == 1


def test_no_calls_recorded_yet(tmp_path: Path) -> None:
    assert read_calls(tmp_path) == []


@pytest.mark.parametrize(("fail", "error"), [("temporary", DriverError),
                                             ("permanent", PermanentDriverError)])
def test_fail_setting(fail: str, error: type[Exception]) -> None:
    fake = FakeNotifier(FakeNotifier.Settings.model_validate({"fail": fail}))
    with pytest.raises(error):
        fake.send(_note())
    assert fake.delivered == {}


def test_key_digest_is_file_and_header_safe() -> None:
    digest = _note("notify.member_added:4f1c/../x").key_digest
    assert len(digest) == 40
    assert digest.isalnum()
