"""The dashboard page and a dispatch's chart: permissions, and what a reader sees in Chromium (Vietnamese)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from notices import roles
from recipients.corrections import CorrectionItem
from tests.conftest import make_user
from tests.notices.test_browser_flow import PASSWORD, browser  # noqa: F401
from tests.second_factor import pass_second_step

DASHBOARD = "/admin/tong-quan/"


@pytest.fixture
def lead(db):
    return make_user("truyenthong", roles.COMMUNICATIONS_LEAD)


def chart_url(dispatch) -> str:
    return f"/admin/tong-quan/cong-van/{dispatch.pk}/bieu-do.svg"


def test_the_dashboard_is_for_staff_with_its_permission(client, drafter, lead, seeded):
    assert client.get(DASHBOARD).status_code == 302  # to the login page
    client.force_login(drafter)
    assert client.get(DASHBOARD).status_code == 403
    client.force_login(lead)
    assert client.get(DASHBOARD).status_code == 200
    assert 'id="dashboard-link"' in client.get("/admin/").content.decode()  # the way there, from every page


def test_a_dispatch_chart_is_for_who_may_view_the_dispatch(client, seeded, lead):
    assert client.get(chart_url(seeded[0])).status_code == 302
    client.force_login(get_user_model().objects.create_user("khach", is_staff=True))
    assert client.get(chart_url(seeded[0])).status_code == 403
    client.force_login(lead)
    response = client.get(chart_url(seeded[0]))
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")


def test_the_dashboard_and_a_dispatch_chart_in_chromium(browser, live_server, seeded, settings):  # noqa: F811
    settings.LANGUAGE_CODE = "vi"  # the live server speaks the product's language
    user = make_user("truyenthong", roles.COMMUNICATIONS_LEAD)
    user.groups.add(roles.ensure_roles()[roles.CLERK])
    CorrectionItem.objects.create(organization=seeded[0].deliveries.first().organization, address="o0@example.vn",
                                  reason="bounce")  # fmt: skip
    page = browser.new_context(locale="vi-VN").new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    pass_second_step(page, user.username)
    page.wait_for_selector("#user-tools")

    page.goto(f"{live_server.url}{DASHBOARD}")
    assert page.locator("#dispatches-week .figure").inner_text() == "1"
    assert page.locator("#dispatches-month .figure").inner_text() in {"1", "2", "3", "4"}
    assert page.locator("#open-corrections .figure").inner_text() == "1"
    assert page.locator("#rates-chart svg polyline").count() == 2
    assert "Tỷ lệ" in page.locator("#rates-chart svg").text_content()
    assert page.locator("#bounce-chart svg rect").count() == 3
    assert "Công an" in page.locator("#bounce-chart").inner_text()
    assert "Công văn phát hành tuần này" in page.locator("#dispatches-week").inner_text()
    assert page.locator("#slowest tbody tr").count() == 10

    page.goto(f"{live_server.url}/admin/notices/dispatch/{seeded[1].pk}/change/")
    chart = page.locator("img.dispatch-chart")
    chart.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", chart.element_handle())
