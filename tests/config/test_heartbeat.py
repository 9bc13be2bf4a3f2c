"""Worker heartbeats in Redis (config/heartbeat.py): which queues a live worker consumes."""

from __future__ import annotations

import logging
import time

import pytest

from config import heartbeat
from tests.smtp_sink import free_port

QUEUES = ["send", "render"]


@pytest.fixture(autouse=True)
def no_heartbeats(settings):
    redis_url = settings.REDIS_URL
    heartbeat.forget(QUEUES)
    yield
    settings.REDIS_URL = redis_url  # a test may have pointed it at a closed port
    heartbeat.forget(QUEUES)


def test_a_queue_is_attended_only_while_a_worker_consuming_it_beats():
    assert heartbeat.unattended_queues(QUEUES, max_age=60) == QUEUES
    heartbeat.beat("worker-b@host-b", ["send"])
    assert heartbeat.unattended_queues(QUEUES, max_age=60) == ["render"]
    heartbeat.beat("worker-c@host-c", ["render"], now=time.time() - 120)  # its last beat was two minutes ago
    assert heartbeat.unattended_queues(QUEUES, max_age=60) == ["render"]
    assert heartbeat.unattended_queues(QUEUES, max_age=180) == []


def test_a_worker_that_leaves_stops_attending_its_queues_at_once():
    heartbeat.beat("worker-b@host-b", QUEUES)
    heartbeat.leave("worker-b@host-b", QUEUES)
    assert heartbeat.unattended_queues(QUEUES, max_age=60) == QUEUES


def test_one_live_worker_is_enough_whatever_the_others_do():
    heartbeat.beat("worker-b@host-b", QUEUES, now=time.time() - 600)
    heartbeat.beat("worker-c@host-c", QUEUES)
    assert heartbeat.unattended_queues(QUEUES, max_age=60) == []


def test_a_beat_while_redis_is_down_is_logged_and_never_raises(settings, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    caplog.set_level(logging.WARNING, logger=heartbeat.log.name)  # whatever level an earlier worker left the root at
    heartbeat.beat("worker-b@host-b", QUEUES)
    heartbeat.leave("worker-b@host-b", QUEUES)
    assert "Worker heartbeat not written" in caplog.text and "Worker heartbeat not removed" in caplog.text
