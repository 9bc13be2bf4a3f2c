"""DKIM (notices/dkim_signing.py): every message a worker sends over SMTP verifies with dkimpy against our key."""

from __future__ import annotations

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from notices import dkim_signing, sendloop
from notices.dkim_signing import DkimKeyError, DkimSigner
from notices.models import DeliveryStatus
from tests.notices.delivery_fixtures import ids_of
from tests.notices.mail_trust_fixtures import DOMAIN, SELECTOR, dns_answer, send_through_worker

MESSAGE = (b"From: =?utf-8?b?QuG6o28gaGnhu4Nt?= <congvan@bhxh.example.vn>\r\nTo: office@bhxh-hanoi.example.vn\r\n"
           b"Subject: test\r\nDate: Fri, 04 Dec 2026 09:00:00 +0700\r\nMessage-ID: <congvan.1.1@bhxh.example.vn>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nK\xc3\xadnh g\xe1\xbb\xadi.\r\n")  # fmt: skip


def test_each_message_a_worker_sends_over_smtp_verifies_with_dkimpy(issue_to, smtp_server, dkim_dns, celery_worker):
    dispatch = send_through_worker(issue_to(3))

    assert len(smtp_server.raw) == 3
    for raw in smtp_server.raw:
        assert raw.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=bhxh.example.vn;")
        assert dkim.verify(raw, dnsfunc=dkim_dns)
    assert set(dispatch.deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_message_changed_on_the_way_fails_verification(issue_to, smtp_server, dkim_dns, celery_worker):
    send_through_worker(issue_to(1))
    (raw,) = smtp_server.raw

    assert dkim.verify(raw, dnsfunc=dkim_dns)
    assert not dkim.verify(raw.replace(b"To: office000@", b"To: office001@"), dnsfunc=dkim_dns)
    at = raw.rindex(b"\r\n\r\n") + 10  # a character inside the PDF's base64
    changed = raw[:at] + (b"B" if raw[at : at + 1] == b"A" else b"A") + raw[at + 1 :]
    assert not dkim.verify(changed, dnsfunc=dkim_dns)


def test_another_key_under_our_selector_fails_verification(dkim_key):
    path, key = dkim_key
    raw = DkimSigner(DOMAIN, SELECTOR, key).signature(MESSAGE) + MESSAGE
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert dkim.verify(raw, dnsfunc=dns_answer(dkim_signing.public_key_record(key)))
    assert not dkim.verify(raw, dnsfunc=dns_answer(dkim_signing.public_key_record(other)))


@pytest.mark.parametrize("ending", [b"", b"\r\n\r\n\r\n", b"no line end"])
def test_a_body_with_an_unusual_ending_is_canonicalised_as_dkimpy_does(dkim_key, ending):
    path, key = dkim_key
    message = MESSAGE + ending
    raw = DkimSigner(DOMAIN, SELECTOR, key).signature(message) + message
    assert dkim.verify(raw, dnsfunc=dns_answer(dkim_signing.public_key_record(key)))


def test_our_signature_has_the_body_hash_dkimpy_computes(dkim_key):
    path, key = dkim_key
    ours = dkim.util.parse_tag_value(DkimSigner(DOMAIN, SELECTOR, key).signature(MESSAGE).split(b":", 1)[1])
    theirs = dkim.util.parse_tag_value(dkim.sign(MESSAGE, SELECTOR.encode(), DOMAIN.encode(),
                                                 path.read_bytes()).split(b":", 1)[1])  # fmt: skip
    assert ours[b"bh"] == theirs[b"bh"] and ours[b"c"] == theirs[b"c"] == b"relaxed/simple"


def test_nothing_is_signed_without_the_settings(issue_to, smtp_server, celery_worker, settings):
    settings.DKIM_PRIVATE_KEY_PATH = ""
    send_through_worker(issue_to(1))
    assert b"DKIM-Signature" not in smtp_server.raw[0]


def test_an_unreadable_key_defers_the_delivery_and_sends_nothing(issue_to, smtp_server, dkim_dns, settings, tmp_path):
    (tmp_path / "broken.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    settings.DKIM_PRIVATE_KEY_PATH = str(tmp_path / "broken.pem")
    dispatch = issue_to(1)

    assert sendloop.send_batch(ids_of(dispatch)) == 0
    (delivery,) = dispatch.deliveries.all()
    assert delivery.status == DeliveryStatus.DEFERRED and "DKIM_PRIVATE_KEY_PATH" in delivery.last_error
    assert smtp_server.raw == []


def test_a_missing_key_or_one_that_is_not_rsa_is_refused(tmp_path):
    with pytest.raises(DkimKeyError, match="No such file"):
        dkim_signing.load_private_key(str(tmp_path / "missing.pem"))
    ec = ec_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    (tmp_path / "ec.pem").write_bytes(ec)
    with pytest.raises(DkimKeyError, match="not an RSA key"):
        dkim_signing.load_private_key(str(tmp_path / "ec.pem"))


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())
