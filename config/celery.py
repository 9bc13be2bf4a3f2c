"""Celery application: Redis is the broker, the database holds every state that matters."""

from __future__ import annotations

import os

from celery import Celery, bootsteps
from celery.concurrency.thread import TaskPool as ThreadTaskPool
from celery.signals import worker_ready
from django.conf import settings

from config import heartbeat, metrics_server

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


class Heartbeat(bootsteps.StartStopStep):
    """Note in Redis every few seconds that this worker is alive and which queues it consumes (config/heartbeat.py);
    a worker that stops cleanly leaves at once. A consumer step: it runs in every worker, the tests' too."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.entry = None
        self.queues: list[str] = []

    def start(self, parent) -> None:
        self.queues = [queue.name for queue in parent.task_consumer.queues]
        heartbeat.beat(parent.hostname, self.queues)
        self.entry = parent.timer.call_repeatedly(
            settings.HEALTH_HEARTBEAT_SECONDS, heartbeat.beat, (parent.hostname, self.queues)
        )

    def stop(self, parent) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None
            heartbeat.leave(parent.hostname, self.queues)


app.steps["consumer"].add(Heartbeat)


@worker_ready.connect
def serve_metrics(sender=None, **kwargs) -> None:
    """Serve this worker's Prometheus metrics on METRICS_WORKER_PORT (none when 0 or without METRICS_TOKEN)."""
    if settings.METRICS_WORKER_PORT and settings.METRICS_TOKEN:
        metrics_server.serve(settings.METRICS_WORKER_ADDRESS, settings.METRICS_WORKER_PORT, settings.METRICS_TOKEN)
