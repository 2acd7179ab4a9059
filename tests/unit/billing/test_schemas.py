"""Billing request shapes: periods, rules, outages, credits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ocx.domain.billing import schemas

pytestmark = pytest.mark.billing


def test_a_period_is_a_utc_calendar_month() -> None:
    assert schemas.month_bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC),
                                               datetime(2027, 1, 1, tzinfo=UTC))
    assert schemas.month_bounds("2028-02")[1] == datetime(2028, 3, 1, tzinfo=UTC)
    for bad in ("2026-13", "2026-1", "26-10", "2026-10-01", "0000-01", "9999-12"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            schemas.month_bounds(bad)


def test_default_rules_bill_running_and_stopped_servers_only() -> None:
    rules = schemas.RatingRules()
    assert rules.billed_states == ["active", "paused", "stopped", "suspended"]
    assert [(u.component, u.vcpus, u.ram_mib) for u in rules.service_units] == [
        ("cpu_su", Decimal(1), Decimal(4096))]


@pytest.mark.parametrize("body", [
    {"provider": "p", "offering": "o", "starts_at": "2026-10-01T00:00:00Z",
     "ends_at": "2026-10-02T00:00:00Z"},
    {"starts_at": "2026-10-01T00:00:00Z", "ends_at": "2026-10-02T00:00:00Z"},
    {"provider": "p", "starts_at": "2026-10-02T00:00:00Z", "ends_at": "2026-10-01T00:00:00Z"},
])
def test_an_outage_names_one_target_and_a_window(body: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        schemas.OutageCreate.model_validate(body)


def test_money_is_answered_with_two_decimals() -> None:
    credit = schemas.InvoiceCreditPublic(credit_id="0" * 32, project_id="1" * 32,
                                         amount=Decimal("5"))
    assert credit.model_dump(mode="json")["amount"] == "5.00"
    with pytest.raises(ValidationError):
        schemas.CreditCreate(organization="o", name="x", amount=Decimal("1.005"),
                             valid_from=datetime(2026, 1, 1, tzinfo=UTC))
