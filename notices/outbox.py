"""An email backend that writes each message as one `.eml` file: the embedded default, for trying the system."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    """Write every message to OUTBOX_DIR as `<time>-<uuid>.eml`, readable by any mail client."""

    def send_messages(self, email_messages) -> int:
        outbox = Path(settings.OUTBOX_DIR)
        outbox.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{uuid.uuid4().hex}.eml"
            (outbox / name).write_bytes(message.message().as_bytes(linesep="\r\n"))
        return len(email_messages)
