"""Content-Security-Policy: on every response, strict for scripts, and the admin, the editor and our own
scripts keep working under it in a real Chromium (no violation reported)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

HEADER = "Content-Security-Policy"
COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/xac-thuc/", "/xac-thuc/khong-co/"])
def test_every_page_carries_a_policy_that_forbids_inline_script(client, path):
    policy = client.get(path)[HEADER]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"


def open_as(browser, live_server, client, user, path: str):
    """Return a page logged in as the user, watching for CSP violations and console errors, opened at path."""
    client.force_login(user)
    context = browser.new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}{path}")
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__violations") + [e for e in page.console_errors if "Content Security" in e]


def test_the_dispatch_page_loads_the_editor_and_the_admin_scripts_without_a_violation(
    live_server, client, browser, draft, drafter
):
    page = open_as(browser, live_server, client, drafter, reverse("admin:notices_dispatch_change", args=[draft.pk]))
    page.locator(".richtext-page").wait_for()
    assert page.locator("textarea[name=body]").is_hidden(), "editor.js ran"
    page.locator(".richtext-page").click()
    page.click("button[data-command=bold]")
    page.keyboard.type("đậm")
    assert page.evaluate("typeof window.django !== 'undefined' && typeof window.django.jQuery") == "function"
    page.locator("#appendices-group .add-row a").click()  # the admin's inlines.js adds an appendix row
    expect(page.locator("#appendices-group tr.dynamic-appendices")).to_have_count(1)
    assert violations(page) == []


def test_the_language_switch_works_without_an_inline_handler(live_server, client, browser, draft, drafter):
    page = open_as(browser, live_server, client, drafter, reverse("admin:index"))
    with page.expect_navigation():
        page.select_option("select[name=language]", "vi")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert violations(page) == []


def test_the_live_counts_and_the_cancel_confirmation_run_under_the_policy(
    live_server, client, browser, clerk, issue_to
):
    dispatch = issue_to(3)
    page = open_as(browser, live_server, client, clerk, reverse("admin:notices_dispatch_change", args=[dispatch.pk]))
    expect(page.locator("#sending-progress")).to_have_attribute("data-counts", '{"queued":3}', timeout=10_000)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("form[data-confirm] button")
    page.wait_for_timeout(300)
    assert asked == ["Cancel every delivery not yet sent?"]
    assert set(dispatch.deliveries.values_list("status", flat=True)) == {"queued"}, "dismissed: nothing cancelled"
    assert violations(page) == []
