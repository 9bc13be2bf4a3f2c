"""What Prometheus reads (prometheus-client): the sending's counters and durations, and the state of the system.

Measured where the work happens, in the process that does it: messages accepted per transport (its rate is the
send rate), and the durations of a fan-out page, a render (a dispatch, or a batch of personalised copies) and a
signature. A worker serves its own on its metrics port (config/metrics_server.py); the web process serves its own
(issuing renders and signs there) on `/metrics`, with `SystemCollector`: deliveries by status and the depth of
each Celery queue, read from PostgreSQL and Redis at each scrape, the same whichever machine answers.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db.models import Count
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from notices.models import Delivery

MESSAGES_SENT = Counter("congvan_messages_sent", "Messages the provider accepted", ["transport"])
FANOUT_PAGE_SECONDS = Histogram(
    "congvan_fanout_page_seconds", "Time to write one page of deliveries",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)  # fmt: skip
RENDER_SECONDS = Histogram(
    "congvan_render_seconds", "Time to render a PDF (a dispatch) or a batch of copies (copies)", ["what"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)  # fmt: skip
SIGNING_SECONDS = Histogram(
    "congvan_signing_seconds", "Time to sign one PDF with the agency's certificate",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip

# kombu's Redis transport keeps a queue's prioritised messages in lists of their own, named queue + sep + step.
PRIORITY_SEPARATOR, PRIORITY_STEPS = "\x06\x16", (3, 6, 9)


def queue_lists(queue: str) -> list[str]:
    """Return the Redis lists that hold the waiting messages of a Celery queue."""
    return [queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)]


def queue_depths() -> dict[str, int]:
    """Return how many tasks wait in each Celery queue (the broker's list lengths)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    queues = list(settings.CELERY_TASK_QUEUES)
    with client.pipeline() as pipe:
        for queue in queues:
            for name in queue_lists(queue):
                pipe.llen(name)
        lengths = pipe.execute()
    per_queue = len(PRIORITY_STEPS) + 1
    return {queue: sum(lengths[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)}


def deliveries_by_status() -> dict[tuple[str, str], int]:
    """Return the number of deliveries of each (kind, status)."""
    rows = Delivery.every_kind.order_by().values_list("kind", "status").annotate(n=Count("pk"))
    return {(kind, status): n for kind, status, n in rows}


class SystemCollector(Collector):
    """The state every machine shares, read at each scrape: deliveries by status, tasks waiting per queue."""

    def collect(self):
        deliveries = GaugeMetricFamily("congvan_deliveries", "Deliveries by kind and status", labels=["kind", "status"])
        for (kind, status), count in sorted(deliveries_by_status().items()):
            deliveries.add_metric([kind, status], count)
        yield deliveries
        depth = GaugeMetricFamily("congvan_queue_depth", "Tasks waiting in each Celery queue", labels=["queue"])
        for queue, count in queue_depths().items():
            depth.add_metric([queue], count)
        yield depth
