"""/metrics (notices/views/metrics.py): never public; the values are right after a real send."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from notices import sendloop
from tests.notices.delivery_fixtures import ids_of

TOKEN = "a-long-random-scraper-token"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Return every sample of /metrics, keyed by (name, sorted labels)."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sent_so_far() -> float:
    return REGISTRY.get_sample_value("congvan_messages_sent_total", {"transport": "smtp"}) or 0.0


@pytest.mark.django_db
def test_without_a_token_setting_the_address_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_a_request_without_the_token_is_refused(client, token, admin_user):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 403  # the scheme is part of it
    client.force_login(admin_user)
    assert client.get("/metrics").status_code == 403, "a staff session is no scraper's token"


def test_after_a_real_send_it_counts_deliveries_by_status_and_messages_sent(issue_to, smtp_server, client, token):
    before = sent_so_far()
    smtp_server.handler.refuse("office001@bhxh-hanoi.example.vn", "550 5.1.1 No such mailbox")
    dispatch = issue_to(4)
    sendloop.send_batch(ids_of(dispatch))  # what a worker's send task runs, over SMTP to the sink

    samples = scrape(client)
    assert samples[("congvan_deliveries", (("kind", "dispatch"), ("status", "sent")))] == 3
    assert samples[("congvan_deliveries", (("kind", "dispatch"), ("status", "failed")))] == 1
    assert samples[("congvan_messages_sent_total", (("transport", "smtp"),))] == before + 3
    assert len(smtp_server.messages) == 3
    assert samples[("congvan_fanout_page_seconds_count", ())] >= 1


@pytest.mark.django_db
def test_it_shows_how_many_tasks_wait_in_each_queue(client, token, fresh_broker):
    for _ in range(2):
        celery_app.send_task("notices.sweep", queue="events")
    celery_app.send_task("notices.send_batch", args=[[]], queue="send-urgent", priority=6)  # kombu's own list

    samples = scrape(client)
    depths = {
        dict(labels)["queue"]: value for (name, labels), value in samples.items() if name == "congvan_queue_depth"
    }
    assert depths == {"send-urgent": 1, "render": 0, "events": 2, "send": 0, "callbacks": 0, "celery": 0}
