"""The callbacks' Celery tasks (queue `callbacks`): thin, ids as arguments, bounded retries with backoff."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from api import callbacks


@shared_task(name="api.collect_callbacks")
def collect_callbacks() -> int:
    """Write and queue the callbacks owed for new delivery events (beat, every CALLBACK_COLLECT_SECONDS)."""
    return callbacks.collect()


@shared_task(name="api.send_callback", bind=True, max_retries=None, acks_late=True)
def send_callback(self, callback_id: int) -> None:
    """POST one callback; retry a transient failure with backoff; give up after CALLBACK_MAX_ATTEMPTS."""
    try:
        callbacks.deliver(callback_id)
    except callbacks.CallbackError as exc:
        if exc.permanent or self.request.retries + 1 >= settings.CALLBACK_MAX_ATTEMPTS:
            callbacks.give_up(callback_id, str(exc))
            return
        raise self.retry(countdown=callbacks.backoff(self.request.retries), exc=exc) from exc
