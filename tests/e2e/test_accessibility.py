"""The dashboard is accessible, checked in the browser rather than asserted: axe-core runs
its WCAG 2 A/AA rules on every main page and key form of each role on the demo of
`make run`, and the keyboard reaches the sign-in and invitation forms in order, with a
visible focus ring.

axe-core is vendored under tests/e2e/vendor/ (`make vendor-axe`, MPL-2.0): nothing is
downloaded when the tests run. It is injected as an init script, which the browser runs
outside the page's CSP (``default-src 'self'``), so the pages are checked exactly as
served.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from ocx.domain.identity.service import find_project
from tests.e2e.conftest import DemoServer, open_signed_in

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
# Every WCAG 2.0, 2.1 and 2.2 success criterion of levels A and AA that axe checks.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
PASSWORD_OF_NOBODY = "not-the-password"


@dataclass
class Violation:
    """One axe rule a page breaks, as the failure message shows it."""

    url: str
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return (f"{self.url}: {self.rule} ({self.impact}) {self.help}\n"
                + "\n".join(f"    {target}" for target in self.targets))


def axe_violations(page: Page) -> list[Violation]:
    """The serious and critical WCAG A/AA violations axe finds on the page as it is now."""
    page.wait_for_load_state("load")
    results: dict[str, Any] = page.evaluate(
        "options => axe.run(document, options)", AXE_OPTIONS)
    assert results["passes"], f"axe checked nothing on {page.url}"
    found = []
    for rule in results["violations"]:
        nodes = [n for n in rule["nodes"] if n.get("impact") in FAILING_IMPACTS]
        if nodes:
            found.append(Violation(
                url=page.url, rule=rule["id"], impact=rule["impact"], help=rule["help"],
                targets=[" ".join(map(json.dumps, n["target"])) + f"  {n['failureSummary']!r}"
                         for n in nodes]))
    return found


def first_link(page: Page, selector: str) -> str:
    """The href of the first link on the page matching ``selector`` (the test needs one)."""
    links = page.locator(selector)
    assert links.count() > 0, f"{page.url} has no link {selector}"
    href = links.first.get_attribute("href")
    assert href, f"{page.url}: {selector} has no href"
    return href


class Visitor:
    """Opens pages of one signed-in person and collects what axe finds on them."""

    def __init__(self, page: Page, base: str, problems: list[str]) -> None:
        self.page, self.base, self.problems = page, base, problems

    def check(self, path: str) -> Page:
        """Open ``path`` and run axe on it."""
        response = self.page.goto(self.base + path)
        assert response is not None
        if response.status != 200:
            self.problems.append(f"{path} answered {response.status}")
        return self.check_here()

    def check_here(self) -> Page:
        """Run axe on the page as it is now."""
        self.problems.extend(map(str, axe_violations(self.page)))
        return self.page

    def submit_refused(self, fields: dict[str, str], button: str) -> Page:
        """Fill ``fields`` (selector -> value) of the page's form, submit it, and check the
        form shown again with the server's validation message."""
        for selector, value in fields.items():
            self.page.locator(selector).fill(value)
        self.page.get_by_role("button", name=button).click()
        self.page.locator(".flash-error[role=alert]").wait_for()
        return self.check_here()


def researcher_pages(visit: Visitor, project: str) -> None:
    visit.check("/")
    overview = visit.check(f"/projects/{project}")
    visit.check(first_link(overview, 'main a[href^="/allocations/"]'))
    visit.check(f"/projects/{project}/members")


def pi_pages(visit: Visitor, project: str) -> None:
    visit.check("/")
    overview = visit.check(f"/projects/{project}")
    visit.check(first_link(overview, 'main a[href^="/allocations/"]'))
    visit.check(f"/projects/{project}/members")
    visit.submit_refused({"#invite-email": "new.member@bayview.example.org",
                          "#invite-expiry": "2000-01-01"}, "Send invitation")
    visit.check(f"/projects/{project}/budget")
    usage = visit.check(f"/projects/{project}/usage")
    assert usage.locator(".usage-plot canvas").count() > 0, "axe ran before uPlot drew"
    invoices = visit.check("/invoices")
    invoice = first_link(invoices, 'main a[href^="/invoices/"]:not([href*="export"])')
    visit.check(invoice)
    form = visit.check(f"/projects/{project}/allocations/new")
    visit.check(first_link(form, 'main a[href*="/allocations/new?offering="]'))


def provider_pages(visit: Visitor, project: str) -> None:
    visit.check("/")
    provider = visit.check("/provider")
    visit.check(first_link(provider, 'main a[href^="/provider/offerings/"]'))
    visit.check("/invoices")


def operator_pages(visit: Visitor, project: str) -> None:
    visit.check("/operator")
    visit.check("/operator/price-book")
    month_close = visit.check("/operator/month-close")
    # the demo leaves last month's invoices as drafts: the confirmation page lists them
    visit.check(first_link(month_close, 'main a[href^="/operator/month-close/finalize"]'))
    visit.check("/operator/audit")
    visit.check("/operator/operations")
    invoices = visit.check("/invoices")
    visit.check(first_link(invoices, 'main a[href^="/invoices/"]:not([href*="export"])'))
    visit.check("/provider")
    # An operation's page: operators see every operation (the provider's approval started
    # the demo's, so neither the PI nor the researcher has one of their own).
    overview = visit.check(f"/projects/{project}")
    allocation = visit.check(first_link(overview, 'main a[href^="/allocations/"]'))
    visit.check(first_link(allocation, 'main a[href^="/operations/"]'))


PAGES: dict[str, Callable[[Visitor, str], None]] = {
    "researcher": researcher_pages, "pi": pi_pages, "provider": provider_pages,
    "operator": operator_pages,
}


def genomics_lab(demo: DemoServer) -> str:
    with demo.runtime.sessions() as session:
        return find_project(session, "bayview:genomics-lab").id


def test_axe_finds_no_serious_violation_on_any_page(demo_server: DemoServer,
                                                    browser: BrowserContext) -> None:
    browser.add_init_script(path=AXE)
    problems: list[str] = []
    page = browser.new_page()
    signed_out = Visitor(page, demo_server.url, problems)
    signed_out.check("/login")
    signed_out.submit_refused({"#email": demo_server.accounts["researcher"],
                               "#password": PASSWORD_OF_NOBODY}, "Sign in")
    page.close()

    project = genomics_lab(demo_server)
    for role, pages in PAGES.items():
        browser.clear_cookies()
        page, errors = open_signed_in(browser, demo_server.url, demo_server.accounts[role],
                                      demo_server.password)
        visitor = Visitor(page, demo_server.url, problems)
        pages(visitor, project)
        # (the refused form answers 422, which the browser reports as an error too)
        problems += [f"{role}: the browser reported {error}" for error in errors
                     if "status of 422" not in error]
        page.close()
    assert not problems, "\n".join(problems)


# --- keyboard ---

FOCUS_STATE = """el => {
  const style = getComputedStyle(el);
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let ground = el.parentElement, back = 'rgb(255, 255, 255)';
  while (ground) {
    const c = getComputedStyle(ground).backgroundColor, a = rgb(c)[3];
    if (a === undefined || a > 0) { back = c; break; }
    ground = ground.parentElement;
  }
  const [hi, lo] = [lum(style.outlineColor), lum(back)].sort((x, y) => y - x);
  const clear = rgb(style.outlineColor)[3] === 0;  // a transparent ring shows nothing
  return {
    name: el.id || el.getAttribute('name') || el.textContent.trim(),
    tag: el.tagName.toLowerCase(),
    outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
    contrast: clear ? 1 : (hi + 0.05) / (lo + 0.05),
  };
}"""
FOCUSABLE = ("a[href], button, input:not([type=hidden]), select, textarea, "
             "[tabindex]:not([tabindex='-1'])")


def to_top(page: Page) -> None:
    """Focus the page itself: the next Tab goes to its first focusable element."""
    page.locator("body").evaluate("body => { body.tabIndex = -1; body.focus(); }")


def tab_through(page: Page, form: str) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until the focus reaches the last field of
    ``form``; each element of the form that took the focus, in the order Tab reached it,
    with its focus ring (see ``FOCUS_STATE``)."""
    to_top(page)
    fields = page.locator(form).locator(FOCUSABLE)
    last = fields.last
    reached: list[dict[str, Any]] = []
    for _press in range(60):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if focused.count() == 0:
            continue
        if focused.evaluate(f"el => !!el.closest({json.dumps(form)})"):
            state = focused.evaluate(FOCUS_STATE)
            # Tab also steps through a date field's day, month and year: one field
            if not reached or reached[-1]["name"] != state["name"]:
                reached.append(state)
        if focused.evaluate("(el, last) => el === last", last.element_handle()):
            return reached
    pytest.fail(f"Tab never reached the end of {form} on {page.url}; reached {reached}")


def check_keyboard(page: Page, form: str, expected: list[str]) -> list[str]:
    """What is wrong with reaching ``form``'s fields by keyboard: the order, or a focus
    ring that is missing or too faint (WCAG 2.4.7, 1.4.11: 3:1 against its ground)."""
    reached = tab_through(page, form)
    problems = []
    if [field["name"] for field in reached] != expected:
        problems.append(f"{page.url}: Tab reached {[f['name'] for f in reached]}, "
                        f"expected {expected}")
    for field in reached:
        if field["outline"] < 2 or field["contrast"] < 3:
            problems.append(f"{page.url}: focused {field['tag']} {field['name']!r} has an "
                            f"outline of {field['outline']}px at contrast "
                            f"{field['contrast']:.2f}:1")
    return problems


def test_the_keyboard_reaches_every_field_with_a_visible_focus(
        demo_server: DemoServer, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(demo_server.url + "/login")
    problems = check_keyboard(page, "main form", ["email", "password", "Sign in"])
    page.close()

    page, _errors = open_signed_in(browser, demo_server.url, demo_server.accounts["pi"],
                                   demo_server.password)
    page.goto(f"{demo_server.url}/projects/{genomics_lab(demo_server)}/members")
    # The skip link comes first: the keyboard need not cross the navigation.
    to_top(page)
    page.keyboard.press("Tab")
    if page.locator(":focus").get_attribute("class") != "skip-link":
        problems.append(f"{page.url}: the first Tab does not reach the skip link")
    problems += check_keyboard(page, 'form[action$="/invitations"]',
                               ["invite-email", "invite-role", "invite-expiry",
                                "Send invitation"])
    assert not problems, "\n".join(problems)
