"""A worker's own metrics port (config/metrics_server.py), and a real worker serving it (config/celery.py)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings

from config import heartbeat, metrics_server
from tests.processes import child_environment
from tests.smtp_sink import free_port

TOKEN = "a-long-random-scraper-token"


def test_the_port_answers_only_the_bearer_token():
    server = metrics_server.serve("127.0.0.1", 0, TOKEN)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        assert requests.get(url, timeout=5).status_code == 403
        assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 403
        answer = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert answer.status_code == 200 and "congvan_messages_sent_total" in answer.text
    finally:
        server.shutdown()
        server.server_close()


def test_an_empty_token_opens_nothing():
    assert not metrics_server.authorised("Bearer ", "")
    assert metrics_server.authorised(f"Bearer {TOKEN}", TOKEN)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else "the worker stopped"
        try:
            return requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


@pytest.mark.parametrize("pool", ["threads", "prefork"])
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_serves_its_metrics_and_beats_for_its_queues_until_it_stops(pool, tmp_path):
    queues, port, name = ["events"], free_port(), f"metrics-test-{free_port()}@localhost"
    heartbeat.forget(queues)
    env = child_environment(METRICS_TOKEN=TOKEN, METRICS_WORKER_PORT=str(port), LOG_LEVEL="WARNING")
    if pool == "prefork":  # the children's metrics are summed from their files (prometheus-client multiprocess mode)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", pool, "-c", "1", "-Q", "events",
         "-n", name, "--without-mingle", "--without-gossip", "-l", "warning"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        answer = wait_for(f"http://127.0.0.1:{port}/metrics", worker)
        assert answer.status_code == 200 and "congvan_signing_seconds_bucket" in answer.text
        assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 403
        assert heartbeat.unattended_queues(queues, max_age=60) == []
        if pool == "prefork":
            assert list(tmp_path.glob("histogram_*.db")), "the child process writes its metrics to the directory"
    finally:
        worker.terminate()  # a warm shutdown: the worker leaves its queues' heartbeats
        worker.wait(60)
    assert heartbeat.unattended_queues(queues, max_age=60) == queues
