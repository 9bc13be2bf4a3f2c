"""The send rate limit: one token bucket in Redis shared by every worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notices.ratelimit import TokenBucket

ROOT = Path(__file__).resolve().parents[2]
TAKER = """
import json, os, sys, time
import django
django.setup()
from django.conf import settings
settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST = 40, 5
from notices.ratelimit import TokenBucket
bucket, taken = TokenBucket("shared-test"), 0
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.005)
while time.time() < start + 1.5:
    taken += bucket.acquire(1)
print(json.dumps({"taken": taken}))
"""


def run_two_workers() -> list[int]:
    start = time.time() + 1.5  # both processes begin taking at the same moment
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen([sys.executable, "-c", TAKER, str(start)], cwd=ROOT, env=env, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    return [json.loads(p.communicate(timeout=60)[0])["taken"] for p in processes]


@pytest.fixture
def bucket(settings):
    settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST = 40, 5
    bucket = TokenBucket("shared-test")
    bucket.reset()
    yield bucket
    bucket.reset()


def test_two_worker_processes_share_one_rate(bucket):
    first, second = run_two_workers()
    # 1.5 s at 40/s plus the burst of 5 (and one token of rounding) is the most both may take together.
    assert first + second <= 5 + 40 * 1.5 + 2
    assert first + second >= 40 * 1.5 * 0.6
    assert first > 10 and second > 10  # both got a share: neither ran alone


def test_a_throttling_answer_halves_the_shared_rate(bucket):
    assert bucket.slow_down() == 0.5
    assert bucket.slow_down() == 0.25
    first, second = run_two_workers()
    assert first + second <= 5 + 10 * 1.5 + 2


def test_take_never_grants_more_than_the_burst(bucket):
    granted, wait = bucket.take(100)
    assert granted == 5 and wait == 0
    granted, wait = bucket.take(1)
    assert granted == 0 and 0 < wait <= 0.05
