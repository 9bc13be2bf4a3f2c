"""A real SMTP server (aiosmtpd) for tests and benchmarks, which can refuse chosen recipients."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import defaultdict

from aiosmtpd.controller import Controller


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Keep every accepted message; answer RCPT for an address with the replies queued for it."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.replies: dict[str, list[str]] = defaultdict(list)
        self.lock = threading.Lock()

    def refuse(self, address: str, *replies: str) -> None:
        """Answer the next RCPT TO for `address` with each reply in turn (e.g. "451 4.7.1 Try later")."""
        self.replies[address.lower()].extend(replies)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            queued = self.replies.get(address.lower())
            if queued:
                return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A running aiosmtpd server on 127.0.0.1 with its recording handler."""

    def __init__(self, port: int | None = None) -> None:
        self.handler = RecordingHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return self.handler.messages
