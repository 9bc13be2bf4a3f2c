"""Web and workers on separate hosts: a worker host cut off for a while mid-send loses no recipient.

bench/multi_host.py at 500 recipients with a 10-second cut: host A (gunicorn) issues over HTTP, hosts B and C
send, B's link goes down once a fifth of the messages are out and comes back ten seconds later.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests import netns
from tests.processes import run_python

REASON = netns.unavailable_reason()
pytestmark = [
    pytest.mark.skipif(bool(REASON), reason=f"network namespaces cannot be created here: {REASON}"),
    pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                       reason="the hosts share a PostgreSQL database"),
]  # fmt: skip


def test_a_worker_host_cut_off_mid_send_loses_no_recipient_and_the_other_keeps_sending(bench_env):
    script = str(settings.BASE_DIR / "bench" / "multi_host.py")
    result = run_python(script, "--recipients", "500", "--cut", "10", "--stuck", "3", "--settle", "3",
                        "--check-attachments", timeout=240, **bench_env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert (line["delivered_unique"], line["missing"], line["failed"]) == (500, 0, 0), line
    assert line["duplicates"] <= line["in_flight_on_cut_host"], line  # only what B held when it was cut
    assert line["delivered_during_cut"] > 0, line  # host C went on sending while B was gone
    assert line["pdfs_in_bucket"] == 1 and line["pdfs_on_worker_hosts"] == 0, line
    assert line["pdfs_equal_to_bucket"] == line["messages_with_pdf"] >= 500, line  # every PDF came from S3
