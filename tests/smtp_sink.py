"""A real SMTP server (aiosmtpd) for tests and benchmarks, which can refuse chosen recipients.

Run as a separate process for the benchmarks: `python -m tests.smtp_sink --port P --counts FILE
[--transient-rate 0.3] [--save DIR]`; it counts messages per address and writes the counts as JSON to FILE
every second and when it receives SIGTERM; with --save, each message's raw bytes go to a file of their own in DIR.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import random
import signal
import socket
import threading
import time
from collections import Counter, defaultdict

from aiosmtpd.controller import Controller


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Keep every accepted message; answer RCPT for an address with the replies queued for it."""

    def __init__(self, keep: bool = True, transient_rate: float = 0.0, save_dir: str | None = None) -> None:
        self.save_dir = save_dir  # write each message as received (benchmarks that check every message after)
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []  # the bytes of each kept message, as they came
        self.envelopes: list[tuple[str, list[str]]] = []
        self.replies: dict[str, list[str]] = defaultdict(list)
        self.counts: Counter[str] = Counter()  # accepted messages per address
        self.connections = 0
        self.keep = keep  # keep parsed messages (tests) or only count them (benchmarks)
        self.transient_rate = transient_rate  # share of RCPTs answered "451" at random (fault injection)
        self.random = random.Random(4)
        self.lock = threading.Lock()

    def refuse(self, address: str, *replies: str) -> None:
        """Answer the next RCPT TO for `address` with each reply in turn (e.g. "451 4.7.1 Try later")."""
        self.replies[address.lower()].extend(replies)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            queued = self.replies.get(address.lower())
            if queued:
                return queued.pop(0)
            if self.transient_rate and self.random.random() < self.transient_rate:
                return "451 4.3.0 Temporary failure, try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default) if self.keep else None
        with self.lock:
            self.counts.update(address.lower() for address in envelope.rcpt_tos)
            if self.save_dir:
                name = f"{sum(self.counts.values()):08d}.eml"
                with open(os.path.join(self.save_dir, name), "wb") as saved:
                    saved.write(envelope.original_content or envelope.content)
            if self.keep:
                self.raw.append(envelope.original_content or envelope.content)  # as received (DKIM verifies these)
                self.messages.append(message)
                self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A running aiosmtpd server on 127.0.0.1 with its recording handler."""

    def __init__(self, port: int | None = None, keep: bool = True, transient_rate: float = 0.0,
                 save_dir: str | None = None) -> None:  # fmt: skip
        self.handler = RecordingHandler(keep, transient_rate, save_dir)
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, data_size_limit=None)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return self.handler.messages

    @property
    def raw(self) -> list[bytes]:
        return self.handler.raw


def write_counts(handler: RecordingHandler, path: str) -> None:
    """Write the per-address counts as JSON, atomically."""
    with handler.lock:
        counts = dict(handler.counts)
    with open(path + ".tmp", "w") as out:
        json.dump(counts, out)
    os.replace(path + ".tmp", path)


def main() -> None:
    """Run the sink as its own process until SIGTERM, writing the counts every second."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--counts", required=True)
    parser.add_argument("--transient-rate", type=float, default=0.0)
    parser.add_argument("--save", default=None, help="a folder where each message is written as received")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SmtpSink(args.port, keep=False, transient_rate=args.transient_rate, save_dir=args.save) as sink:
        while not stop.wait(1.0):
            write_counts(sink.handler, args.counts)
        time.sleep(0.2)
        write_counts(sink.handler, args.counts)


if __name__ == "__main__":
    main()
