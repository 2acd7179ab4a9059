"""The usage page: per-day plots and table from the recorded spans, for the project's
people only, with clear messages for a bad period."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.domain.metering.daily import MAX_DAYS
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from ocx.web.dashboard.usage import months_back
from tests.integration.billing.support import add_span, priced_market, server
from tests.integration.web.forms import sign_in_as
from tests.support.world import World

ISLAND = re.compile(r'<script type="application/json" id="usage-data">(.*?)</script>', re.S)


def chart(html: str) -> dict[str, Any]:
    """The plots' data island of a usage page."""
    found = ISLAND.search(html)
    assert found, "the page has no chart data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def at(day: int, hour: int = 0) -> datetime:
    """A time in October 2026, UTC."""
    return datetime(2026, 10, day, hour, tzinfo=UTC)


@pytest.fixture
def seeded(client: TestClient, runtime: Runtime, world: World) -> dict[str, Any]:
    """proj-a: a server from Oct 1 12:00 to Oct 3 00:00 (12 h, then 24 h) and a 100 GiB
    volume on Oct 2 (2,400 GiB-hours); proj-b: a server all of October 1 to 3."""
    market = priced_market(client, world)
    a, b = world.project_ids["a"], world.project_ids["b"]
    server(runtime, market, a, "s1", at(1, 12), at(3), vcpus=4, ram_mib=8192)
    add_span(runtime, market, a, "volume.storage", "v1", at(2), at(3), size_gib=100)
    server(runtime, market, b, "secret-b", at(1), at(4), vcpus=2, ram_mib=4096)
    return {"a": a, "b": b}


def test_plots_and_table_show_each_day(client: TestClient, world: World,
                                       seeded: dict[str, Any]) -> None:
    sign_in_as(client, world, "member_a")
    page = client.get(f"/projects/{seeded['a']}/usage?from=2026-10-01&to=2026-10-03")
    assert page.status_code == 200, page.text
    data = chart(page.text)
    assert data["days"] == ["2026-10-01", "2026-10-02", "2026-10-03"]
    assert {s["meter"]: s["values"] for s in data["series"]} == {
        "compute.server": [12.0, 24.0, 0.0], "volume.storage": [0.0, 2400.0, 0.0]}
    html = page.text
    assert 'src="/static/vendor/uPlot.iife.min.js' in html and "usage-charts.js" in html
    assert html.count('class="usage-plot"') == 2
    row = re.search(r'<th scope="row">2026-10-02</th>(.*?)</tr>', html, re.S)
    assert row and re.findall(r'<td class="num">([^<]+)</td>', row.group(1)) == [
        "24.00", "2,400.00"]
    assert "36.00" in html  # the servers' total
    assert "secret-b" not in html and f"/projects/{seeded['a']}" in html  # back link


def test_default_period_is_this_month_and_the_previous_ones(
        client: TestClient, world: World, seeded: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    page = client.get(f"/projects/{seeded['a']}/usage")
    assert page.status_code == 200, page.text
    today = utcnow().date()
    assert f'value="{months_back(today, 3).isoformat()}"' in page.text
    assert f'value="{today.isoformat()}"' in page.text
    assert chart(page.text)["days"][-1] == today.isoformat()


def test_another_organization_never_sees_the_usage(client: TestClient, world: World,
                                                  seeded: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    hidden = client.get(f"/projects/{seeded['b']}/usage?from=2026-10-01&to=2026-10-03")
    assert hidden.status_code == 404
    assert "secret-b" not in hidden.text and "usage-data" not in hidden.text
    sign_in_as(client, world, "admin_b")
    assert client.get(f"/projects/{seeded['a']}/usage").status_code == 404
    assert client.get(f"/projects/{seeded['b']}/usage").status_code == 200


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-13-01&to=2026-10-03", "from: &#39;2026-13-01&#39; is not a day"),
    ("from=2026-10-01&to=soon", "to: &#39;soon&#39; is not a day"),
    ("from=2026-10-05&to=2026-10-01", "the period must end on or after its first day"),
    ("from=2020-01-01&to=2026-10-01", f"a period has at most {MAX_DAYS} days"),
])
def test_a_bad_period_is_refused_with_a_message(client: TestClient, world: World,
                                                seeded: dict[str, Any], query: str,
                                                message: str) -> None:
    sign_in_as(client, world, "pi_a")
    page = client.get(f"/projects/{seeded['a']}/usage?{query}")
    assert page.status_code == 422
    assert 'role="alert"' in page.text and message in page.text
    assert "usage-data" not in page.text


def test_signed_out_browsers_go_to_sign_in(client: TestClient, world: World) -> None:
    page = client.get(f"/projects/{world.project_ids['a']}/usage", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
