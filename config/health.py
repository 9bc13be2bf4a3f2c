"""`/healthz` for load balancers and monitoring (django-health-check): the database, Redis, the file storage and a
recent heartbeat of a worker on every queue (config/heartbeat.py). 200 when all answer, 500 otherwise.

Each check is named and explains a failure in the reader's language, and shows no address, host or password:
the page is reachable without a login (a load balancer has none). The library logs the technical cause.
"""

from __future__ import annotations

import dataclasses

import redis.asyncio
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from health_check import checks
from health_check.base import HealthCheck
from health_check.contrib.redis import Redis as RedisCheck
from health_check.exceptions import HealthCheckException, ServiceUnavailable
from health_check.views import HealthCheckView

from config import heartbeat


class Unavailable(ServiceUnavailable):
    """A failure told in the reader's language (the library prefixes its own English "Unavailable:").

    The message stays lazy until the page is drawn: the checks run in other threads, not in the request's language.
    """

    def __init__(self, message, params: dict | None = None) -> None:
        super().__init__(message)
        self.params = params or {}

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


class Explained:
    """A check shown under a translated name, whose failure is told in the reader's language."""

    label = _("Service")
    failure = _("It does not answer.")

    def __repr__(self) -> str:
        return str(self.label)

    @property
    def labels(self) -> dict[str, str]:
        """Return the check's name only (the library adds the host and port of Redis)."""
        return {"check": type(self).__name__}

    async def get_result(self, executor=None):
        result = await super().get_result(executor)  # type: ignore[misc]
        if isinstance(result.error, HealthCheckException) and not isinstance(result.error, Unavailable):
            result.error = Unavailable(self.failure)
        return result


class Database(Explained, checks.Database):
    label = _("Database (PostgreSQL)")
    failure = _("The database does not answer.")


class Broker(Explained, RedisCheck):
    label = _("Redis (task queue)")
    failure = _("Redis does not answer: no task can be queued.")


class Storage(Explained, checks.Storage):
    label = _("File storage")
    failure = _("A file could not be written, read back and deleted.")


@dataclasses.dataclass(repr=False)
class Workers(Explained, HealthCheck):
    """Fail when a queue has had no live worker for HEALTH_WORKER_MAX_AGE_SECONDS."""

    label = _("Celery workers")
    failure = _("The worker heartbeats cannot be read.")

    def run(self) -> None:
        queues = settings.HEALTH_WORKER_QUEUES
        silent = heartbeat.unattended_queues(queues, settings.HEALTH_WORKER_MAX_AGE_SECONDS)
        if silent:
            raise Unavailable(
                _("No worker has consumed these queues lately: %(queues)s."), {"queues": ", ".join(silent)}
            )


def broker_client() -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


WEB_CHECKS = (Database, (Broker, {"client_factory": broker_client}), Storage)


class HealthView(HealthCheckView):
    """The checks of /healthz, in order: what the web tier needs, then the workers.

    `/healthz/web` (WEB_CHECKS) leaves the workers out: a load balancer in front of the web machines that probes
    it keeps serving the pages (and queueing work) while the workers are being restarted.
    """

    checks = (*WEB_CHECKS, Workers)
