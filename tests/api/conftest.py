"""Fixtures of the API tests: keys with chosen scopes, a client that sends one, a real callback receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from weasyprint import HTML

from api.models import ApiKey, Scope
from notices import ratelimit
from tests.conftest import make_group
from tests.notices.conftest import dev_certificate, signing_certificate  # noqa: F401  (fixtures used here)

ALL_SCOPES = [s.value for s in Scope]


class KeyClient(Client):
    """Django's test client sending an API key with each request (JSON bodies by default)."""

    def __init__(self, key: str, **defaults) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {key}", **defaults)

    def post_json(self, path: str, data=None, **extra):
        return self.post(path, json.dumps(data if data is not None else {}), content_type="application/json", **extra)

    def patch_json(self, path: str, data, **extra):
        return self.patch(path, json.dumps(data), content_type="application/json", **extra)

    def put_json(self, path: str, data, **extra):
        return self.put(path, json.dumps(data), content_type="application/json", **extra)


@pytest.fixture(autouse=True)
def _generous_rate(settings):
    """A bucket no test empties unless it means to; each key's bucket starts full."""
    settings.API_RATE_PER_SECOND, settings.API_RATE_BURST = 1000, 1000
    yield
    client = ratelimit.client()
    for name in client.scan_iter("api-rate:*"):
        client.delete(name)


def new_key(user, scopes=ALL_SCOPES, name: str = "", **fields) -> tuple[ApiKey, str]:
    """Create a key acting as `user` with `scopes`; return it and its secret text."""
    key = ApiKey(name=name or f"Hệ thống {user.username} {ApiKey.objects.count()}", user=user, scopes=list(scopes),
                 **fields)  # fmt: skip
    secret = key.new_key()
    key.save()
    return key, secret


@pytest.fixture
def make_client():
    """Return a function giving (key, client) for a user and scopes."""

    def make(user, scopes=ALL_SCOPES, **fields) -> tuple[ApiKey, KeyClient]:
        key, secret = new_key(user, scopes, **fields)
        return key, KeyClient(secret)

    return make


@pytest.fixture
def drafting(drafter, make_client):
    """A key of the e-office system acting as the drafter, with the drafts and read scopes."""
    return make_client(drafter, [Scope.DRAFTS, Scope.READ])


def pdf_bytes(text: str = "Phụ lục 1") -> bytes:
    return HTML(string=f"<p>{text}</p>").write_pdf()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def offices(db):
    """A recipient group "BHXH cơ sở" of three district offices."""
    return make_group(3)


@pytest.fixture
def draft_body(unit, signer, offices) -> dict:
    """What a client system sends to create a draft."""
    return {"drafting_unit": unit.abbreviation, "signer": signer.pk, "subject": "đôn đốc thu nợ BHXH quý I",
            "body": "<p>Đề nghị Quý cơ quan phối hợp.</p>", "groups": [offices.name]}  # fmt: skip


# --- A real HTTP receiver of callbacks on 127.0.0.1 -----------------------------------------------------------
class Receiver:
    """An HTTP server that records each callback (headers and body) and answers the statuses it is told to."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.answers: list[int] = []  # statuses to answer, in order; 200 once exhausted
        self.answer_body = b"ok"
        self.hang_after_body = 0.0  # seconds to hold the connection after the body, announced longer than it is
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                extra = 10 * 1024 * 1024 if receiver.hang_after_body else 0
                self.send_header("Content-Length", str(len(receiver.answer_body) + extra))
                self.end_headers()
                self.wfile.write(receiver.answer_body)
                self.wfile.flush()
                time.sleep(receiver.hang_after_body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/congvan/status?from=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def payloads(self) -> list[dict]:
        return [json.loads(call["body"]) for call in self.calls]


def verify(call: dict, secret: str) -> bool:
    """Check a received callback's signature the way a client system does."""
    timestamp = call["headers"]["X-Congvan-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + call["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(call["headers"]["X-Congvan-Signature"], f"sha256={expected}")


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, allow-listed by the administrators' setting (plain http allowed for it)."""
    settings.CALLBACK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.CALLBACK_ALLOW_HTTP = True
    settings.CALLBACK_SETTLE_SECONDS = 0
    settings.CALLBACK_RETRY_BASE_SECONDS = 0.05
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


__all__ = ["b64", "io", "pdf_bytes", "verify"]
