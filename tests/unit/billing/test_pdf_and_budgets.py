"""The PDF template (escaping, sections, one page per project) and budget validation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from weasyprint import HTML

from ocx.domain.billing.budget_schemas import BudgetSet
from ocx.domain.billing.pdf import html_to_pdf, render_html
from ocx.domain.billing.schemas import Person, ProjectSummary, QuotaPeriod, ResourceUsage

pytestmark = pytest.mark.billing


def summary(name: str) -> ProjectSummary:
    pi = Person(name="Pi <b>", email="pi@x.example.org", role="pi")
    vm = ResourceUsage(resource_kind="server", resource_id="vm-1", meter="compute.server",
                       quantity=Decimal("12.5000001"), unit="SU-hour", amount=Decimal("1.5"),
                       attributes={"vcpus": 2, "gpu_type": None})
    quota = QuotaPeriod(offering_id=uuid.uuid4(), state="active", quota={"cores": 4},
                        starts_at=datetime(2026, 10, 1, tzinfo=UTC), ends_at=None)
    return ProjectSummary(
        invoice_id=uuid.uuid4(), period="2026-10", currency="USD", project_id=uuid.uuid4(),
        project=name, organization="acme", pis=[pi], users=[pi], sections={"servers": [vm]},
        quota_periods=[quota], subtotal=Decimal("1234.5"), credits=Decimal(0),
        total=Decimal("1234.5"))


def test_the_page_shows_the_summary_escaped() -> None:
    html = render_html("acme", [summary("<script>x</script>")])
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "Pi &lt;b&gt; &lt;pi@x.example.org&gt;" in html
    assert "Compute (per VM)" in html and "vcpus=2" in html and "gpu_type" not in html
    assert "12.5" in html and "12.5000001" not in html  # six decimals at most
    assert "cores=4" in html and "open" in html
    assert "Total: 1,234.50 USD" in html and "Volumes" not in html  # empty: left out


def test_one_page_per_project() -> None:
    html = render_html("acme", [summary("one"), summary("two"), summary("three")])
    assert len(HTML(string=html).render().pages) == 3
    assert html_to_pdf(html).startswith(b"%PDF-")
    empty = render_html("acme", [])
    assert "No usage on this invoice." in empty and len(HTML(string=empty).render().pages) == 1


@pytest.mark.parametrize("body", [
    {"amount": "0"}, {"amount": "1.001"}, {"amount": "10", "thresholds": []},
    {"amount": "10", "thresholds": [80, 80]}, {"amount": "10", "thresholds": [1001]},
    {"amount": "10", "currency": "dollars"}])
def test_bad_budgets_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BudgetSet.model_validate(body)


def test_thresholds_default_and_are_sorted() -> None:
    assert BudgetSet.model_validate({"amount": "10"}).thresholds == [50, 80, 100]
    assert BudgetSet.model_validate({"amount": "10", "thresholds": [100, 20]}
                                    ).thresholds == [20, 100]
