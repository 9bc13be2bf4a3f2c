"""Pagination of a million rows (notices/admin/paging.py): exact totals, every page reachable, one count."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notices.models import Delivery
from tests.notices.delivery_fixtures import many_deliveries


def test_the_send_history_counts_exactly_and_reaches_every_page(client, sent, auditor):
    many_deliveries(sent, 2_100)  # past the old cap of 2,000 (+ the fixture's 3)
    client.force_login(auditor)
    url = reverse("admin:notices_sendrecord_changelist")
    page = client.get(url).content.decode()
    assert "2103 results" in page and "2001" not in page
    last = client.get(url, {"p": 43})  # 2,103 rows at 50 a page: page 43 holds the 3 oldest
    assert last.status_code == 200
    assert last.content.decode().count("@bhxh-hanoi.example.vn</") == 3
    for number in (2, 22, 42):  # read from the front, the middle and the back of the ordering
        page = client.get(url, {"p": number}).content.decode()
        expected = list(Delivery.objects.order_by("-id").values_list("address", flat=True)[(number - 1) * 50 :][:50])
        assert sorted(expected, key=page.index) == expected and len(expected) == 50, number


def test_a_page_beyond_the_last_shows_the_last_page_and_says_so(client, sent, auditor):
    many_deliveries(sent, 100)
    client.force_login(auditor)
    response = client.get(reverse("admin:notices_sendrecord_changelist"), {"p": 60})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Page 60 does not exist: the list has 3 pages. This is the last one." in page
    assert "office000@bhxh-hanoi.example.vn" in page  # the oldest rows: the last page, not page 1
    assert "u00099@example.vn" not in page


def test_a_page_beyond_the_last_counts_the_million_rows_once(client, sent, auditor):
    many_deliveries(sent, 100)
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:notices_sendrecord_changelist"), {"p": 60})
    assert response.status_code == 200 and "office000@bhxh-hanoi.example.vn" in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "notices_delivery" in q["sql"]]
    assert len(counts) == 1, counts


def test_the_audit_trail_pages_beyond_the_last_also_say_so(client, sent, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_auditevent_changelist"), {"p": 7}).content.decode()
    assert "Page 7 does not exist: the list has 1 pages." in page
