"""The send rate limit: one token bucket in Redis shared by every worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notices.ratelimit import TokenBucket, client

ROOT = Path(__file__).resolve().parents[2]
TAKER = """
import json, os, sys, time
import django
django.setup()
from django.conf import settings
settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST = float(sys.argv[3]), 5
from notices.ratelimit import TokenBucket, client
bucket, taken = TokenBucket("shared-test"), 0
start, wanted = float(sys.argv[1]), int(sys.argv[2])
while time.time() < start:
    time.sleep(0.005)
began = client().time()
while taken < wanted:
    taken += bucket.acquire(1)
ended = client().time()
print(json.dumps({"taken": taken, "began": began[0] + began[1] / 1e6, "ended": ended[0] + ended[1] / 1e6}))
"""


def run_two_workers(wanted: int, rate: float) -> tuple[list[int], float]:
    """Run two processes that each take `wanted` tokens from one moment on; return what each took and the
    window, in Redis time, from before the first take of either to after the last (it holds every grant)."""
    start = time.time() + 1.5  # both processes begin taking at the same moment (a late one only widens the window)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, str(start), str(wanted), str(rate)], cwd=ROOT, env=env, stdout=subprocess.PIPE
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in processes]
    window = max(r["ended"] for r in results) - min(r["began"] for r in results)
    return [r["taken"] for r in results], window


@pytest.fixture
def bucket(settings):
    settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST = 40, 5
    bucket = TokenBucket("shared-test")
    bucket.reset()
    yield bucket
    bucket.reset()


def test_two_worker_processes_share_one_rate(bucket):
    taken, window = run_two_workers(25, 40)
    assert taken == [25, 25]
    # Whatever the machine's speed, both together never take more than one burst plus the rate over their window
    # (and one token of rounding); one bucket per process would let 50 through in about half the time.
    assert sum(taken) <= 5 + 40 * window + 1


def test_a_throttling_answer_halves_the_shared_rate(bucket):
    assert bucket.slow_down() == 0.5
    assert bucket.slow_down() == 0.25
    taken, window = run_two_workers(8, 40)
    assert sum(taken) <= 5 + 10 * window + 1


def test_take_never_grants_more_than_the_burst(bucket):
    granted, wait = bucket.take(100)
    assert granted == 5 and wait == 0
    granted, wait = bucket.take(1)
    assert granted == 0 and 0 < wait <= 0.05


def test_an_idle_bucket_fills_up_to_its_burst_and_no_further(bucket):
    seconds, micros = client().time()  # the bucket refills by the Redis server's clock
    now_ms = seconds * 1000 + micros // 1000
    client().hset(bucket.key, mapping={"tokens": "0", "at": str(now_ms - 3_600_000)})  # idle for an hour
    granted, _ = bucket.take(100)
    assert granted == 5


def test_a_throttling_answer_is_logged_with_the_bucket_and_its_new_rate(bucket, caplog):
    with caplog.at_level("WARNING", logger="notices.ratelimit"):
        bucket.slow_down()
    assert [r.getMessage() for r in caplog.records] == [
        "Provider throttled us: congvan:ratelimit:shared-test now runs at 0.5 of its rate"
    ]
