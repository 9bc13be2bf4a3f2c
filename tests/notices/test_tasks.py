"""The Celery tasks (notices/tasks.py): a fresh worker registers every task the engine queues by name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app
from notices import tasks
from notices.models import Delivery, Dispatch, DispatchCount, DispatchStatus
from tests.notices.dashboard_fixtures import seed
from tests.notices.test_sweeper import LONG_AGO

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_worker_registers_every_task_the_engine_queues():
    """A worker imports only the apps' task modules: every task name we queue by name must be among them."""
    names = set()
    for path in (ROOT / "notices").rglob("*.py"):
        names |= set(re.findall(r'send_task\(\s*"([\w.]+)"', path.read_text()))
    assert {"notices.send_batch", "notices.fan_out"} <= names
    script = (
        "import django; django.setup()\n"
        "from config.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(' '.join(sorted(app.tasks)))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    registered = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                                check=True).stdout.split()  # fmt: skip
    assert names <= set(registered)
    assert "notices.send_recall_notice" not in registered  # recall notices ride on notices.send_batch


@pytest.mark.django_db
def test_a_personalised_dispatch_is_never_fanned_out_before_every_copy_exists(draft, clerk, fresh_broker):
    from tests.notices.test_copies import personalised

    dispatch = personalised(draft, 2)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=1, issued_at=LONG_AGO)
    tasks.fan_out(dispatch.pk)  # e.g. queued by an operator or a replay while the copies are still being made
    assert not Delivery.objects.filter(dispatch=dispatch).exists()
    assert Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.ISSUED


def test_beat_schedules_only_tasks_a_worker_registers():
    app.loader.import_default_modules()
    assert "notices.refresh_dashboard_counts" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(app.tasks)


@pytest.mark.django_db
def test_the_dashboard_refresh_task_recomputes_the_recent_dispatches(draft):
    seed(draft, dispatches=2, per_dispatch=3)
    DispatchCount.objects.all().delete()

    assert tasks.refresh_dashboard_counts() == 6  # 2 dispatches x 3 recipient kinds
    assert DispatchCount.objects.count() == 6
