"""Cursor encoding and audit scrubbing, without a database."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from ocx.domain.audit.service import _scrub, diff
from ocx.errors import InvalidInput
from ocx.persistence.pagination import decode_cursor, encode_cursor


def test_cursor_round_trip() -> None:
    when, row = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(when, row)) == (when, row)


OVERFLOW = base64.urlsafe_b64encode(
    b"0001-01-01T00:00:00+05:00|7e4e0240-ffd7-4957-a751-b6718ec5fe9b").decode()


@pytest.mark.parametrize("bad", ["", "garbage", "!!!", encode_cursor.__name__,
                                 "MjAyNi0xMS0yMVQxMjowMDowMHxub3QtYS11dWlk", OVERFLOW])
def test_bad_cursor_is_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(bad)


def test_scrub_masks_secrets_at_any_depth() -> None:
    clean = _scrub({"name": "x", "password": "p", "settings": {"api_token": "t", "ok": 1}})
    assert clean == {"name": "x", "password": "***", "settings": {"api_token": "***", "ok": 1}}


def test_diff_keeps_only_changes() -> None:
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": {"from": 2, "to": 3}}
