"""Fixtures of the DKIM and bounce tests: a DKIM key and its DNS answer, a real dovecot with the bounce mailbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from notices import dkim_signing
from notices.models import Dispatch
from notices.models.delivery import QUEUE, enqueue
from tests.conftest import wait_until
from tests.imap_server import Dovecot
from tests.notices.delivery_fixtures import ids_of, settled

DOMAIN, SELECTOR = "bhxh.example.vn", "congvan2026"
BOUNCE_ADDRESS = "bounces@bhxh.example.vn"


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory) -> tuple[Path, rsa.RSAPrivateKey]:
    """Return (PEM path, key) of a fresh 2048-bit RSA key, as `openssl genrsa` would make it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))  # fmt: skip
    return path, key


@pytest.fixture
def dkim_dns(settings, dkim_key):
    """Sign outgoing SMTP mail with the test key; return the DNS answer function that publishes its public key."""
    path, key = dkim_key
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR, settings.DKIM_PRIVATE_KEY_PATH = DOMAIN, SELECTOR, str(path)
    return dns_answer(dkim_signing.public_key_record(key))


def dns_answer(record: str):
    """Return a dnsfunc for dkimpy that answers only our selector's TXT query, with `record` (no network)."""

    def get_txt(name: bytes, timeout: float = 5) -> bytes | None:
        return record.encode() if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return get_txt


def send_through_worker(dispatch: Dispatch) -> Dispatch:
    """Queue the dispatch's deliveries for the running Celery worker and wait until they are sent."""
    enqueue(ids_of(dispatch), QUEUE)
    wait_until(lambda: settled(dispatch))
    return dispatch


@pytest.fixture
def dovecot():
    """A real dovecot of our own on a free loopback port, with the bounce mailbox's user; stopped afterwards."""
    with Dovecot() as server:
        yield server


@pytest.fixture
def bounce_mailbox(settings, dovecot) -> Dovecot:
    """Give every message a per-delivery return path and read the bounces from the dovecot mailbox."""
    settings.BOUNCE_ADDRESS = BOUNCE_ADDRESS
    settings.BOUNCE_IMAP_HOST, settings.BOUNCE_IMAP_PORT, settings.BOUNCE_IMAP_SSL = "127.0.0.1", dovecot.port, False
    settings.BOUNCE_IMAP_USER, settings.BOUNCE_IMAP_PASSWORD = dovecot.user, dovecot.password
    return dovecot
