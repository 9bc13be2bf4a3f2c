"""/healthz (config/health.py): the database, Redis, the storage and a live worker on every queue, in Vietnamese."""

from __future__ import annotations

import time

import pytest
from django.utils import translation

from config import heartbeat
from tests.smtp_sink import free_port

QUEUES = ["send-urgent", "render", "events", "send", "callbacks", "celery"]


@pytest.fixture
def no_heartbeats(settings):
    settings.HEALTH_WORKER_QUEUES = QUEUES
    redis_url = settings.REDIS_URL
    heartbeat.forget(QUEUES)
    yield
    settings.REDIS_URL = redis_url  # a test may have pointed it at a closed port
    heartbeat.forget(QUEUES)


def statuses(response) -> dict[str, str]:
    return response.json()


def test_it_is_healthy_when_every_service_answers_and_a_real_worker_beats(no_heartbeats, celery_worker, client):
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert statuses(response) == {
        "Database (PostgreSQL)": "OK", "Redis (task queue)": "OK", "File storage": "OK", "Celery workers": "OK",
    }  # fmt: skip
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_fails_naming_redis_when_redis_does_not_answer(db, no_heartbeats, client, settings):
    heartbeat.beat("worker-b@host-b", QUEUES)
    settings.REDIS_URL = settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # a closed port
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert statuses(response) == {
        "Database (PostgreSQL)": "OK",
        "Redis (task queue)": "Redis does not answer: no task can be queued.",
        "File storage": "OK",
        "Celery workers": "The worker heartbeats cannot be read.",
    }
    assert "127.0.0.1" not in response.content.decode(), "no address of ours is shown"


def test_it_fails_naming_the_queues_no_worker_consumed_lately(db, no_heartbeats, client, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 60
    heartbeat.beat("worker-b@host-b", ["send", "render", "events", "callbacks", "celery"])
    heartbeat.beat("worker-c@host-c", ["send-urgent"], now=time.time() - 300)  # stopped five minutes ago
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert statuses(response)["Celery workers"] == "No worker has consumed these queues lately: send-urgent."


def test_the_web_machines_probe_leaves_the_workers_out(db, no_heartbeats, client):
    response = client.get("/healthz/web", HTTP_ACCEPT="application/json")  # no worker beats at all
    assert response.status_code == 200
    assert statuses(response) == {"Database (PostgreSQL)": "OK", "Redis (task queue)": "OK", "File storage": "OK"}


def test_the_page_speaks_vietnamese(db, no_heartbeats, client, settings):
    settings.LANGUAGE_CODE = "vi"
    heartbeat.beat("worker-b@host-b", ["send", "render", "events", "callbacks", "celery"])
    with translation.override("vi"):
        page = client.get("/healthz", HTTP_ACCEPT="text/html")
    text = page.content.decode()
    assert page.status_code == 500 and page["Content-Language"] == "vi"
    for words in ("Tình trạng hệ thống", "Cơ sở dữ liệu (PostgreSQL)", "Kho tệp", "Đang hoạt động",
                  "Không có worker nào nhận việc từ các hàng đợi này gần đây: send-urgent."):  # fmt: skip
        assert words in text


def test_it_names_the_callbacks_queue_when_no_worker_consumes_it(db, no_heartbeats, client, settings):
    heartbeat.beat("worker-b@host-b", ["send-urgent", "send", "render", "events", "celery"])
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert statuses(response)["Celery workers"] == "No worker has consumed these queues lately: callbacks."
