"""Celery application: Redis is the broker, the database holds every state that matters."""

from __future__ import annotations

import os

from celery import Celery
from celery.concurrency.thread import TaskPool as ThreadTaskPool
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("congvan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A threaded worker acks a late-acked task only when its event loop next wakes, which on an idle Redis
# connection can be seconds later; with one task prefetched it fetches nothing meanwhile (celery/celery#6941).
# A timer that wakes the loop every tenth of a second bounds that wait. The prefork pool does not need it.
WAKE_SECONDS = 0.1


@worker_ready.connect
def wake_a_threaded_worker_often(sender=None, **kwargs) -> None:
    """Keep a threaded worker's event loop waking, so a finished task is acked and the next fetched at once."""
    if isinstance(getattr(getattr(sender, "controller", None), "pool", None), ThreadTaskPool):
        sender.timer.call_repeatedly(WAKE_SECONDS, lambda: None)
