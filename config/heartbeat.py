"""Worker heartbeats: each Celery worker notes in Redis, every few seconds, that it is alive and which queues it
consumes; `/healthz` (config/health.py) fails when a queue has had no live worker for too long.

Why a timer in the worker and not a task: a heartbeat task would wait in its queue behind the backlog (a send of
100,000 messages queues a thousand batches ahead of it), so a busy, healthy system would look dead; and Celery's
broadcast `ping` asks every worker and waits for answers on each probe. The worker's own timer runs in its event
loop, independent of the backlog, and one sorted set per queue (worker name scored by time) answers "is anyone
consuming this queue?" with one Redis call.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

log = logging.getLogger(__name__)

KEY = "congvan:heartbeat:{queue}"
FORGET_SECONDS = 24 * 3600  # a worker silent this long is dropped from the set (it was stopped or renamed)


def client() -> redis.Redis:
    """Return a Redis client of the broker that gives up quickly (a health probe must not hang)."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def beat(worker: str, queues: list[str], now: float | None = None) -> None:
    """Note that `worker` is alive and consumes `queues`; log (never raise) when Redis does not answer."""
    now = time.time() if now is None else now
    try:
        with client().pipeline() as pipe:
            for queue in queues:
                pipe.zadd(KEY.format(queue=queue), {worker: now})
                pipe.zremrangebyscore(KEY.format(queue=queue), 0, now - FORGET_SECONDS)
            pipe.execute()
    except redis.RedisError as exc:  # the worker goes on; the health check will say so
        log.warning("Worker heartbeat not written: %s", exc)


def leave(worker: str, queues: list[str]) -> None:
    """Remove a stopping worker from its queues' sets (log, never raise, when Redis does not answer)."""
    try:
        with client().pipeline() as pipe:
            for queue in queues:
                pipe.zrem(KEY.format(queue=queue), worker)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("Worker heartbeat not removed: %s", exc)


def unattended_queues(queues: list[str], max_age: float, now: float | None = None) -> list[str]:
    """Return the queues that no worker has reported consuming in the last `max_age` seconds."""
    now = time.time() if now is None else now
    with client().pipeline() as pipe:
        for queue in queues:
            pipe.zcount(KEY.format(queue=queue), now - max_age, "+inf")
        counts = pipe.execute()
    return [queue for queue, count in zip(queues, counts, strict=True) if not count]


def forget(queues: list[str]) -> None:
    """Remove every heartbeat of these queues (tests, and an operator resetting after renaming workers)."""
    client().delete(*(KEY.format(queue=queue) for queue in queues))
