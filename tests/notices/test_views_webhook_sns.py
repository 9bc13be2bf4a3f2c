"""Amazon SES webhooks: a message counts only when Amazon SNS signed it, by a certificate from an allowed address,
fresh and once. The certificate is served by a real HTTP server of the test's own (the one seam: Amazon's host);
the real anymail views apply what passes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from django.core.cache import cache

from notices import sns
from notices.models import Delivery, DeliveryStatus
from recipients.models import Suppression

URL = "/anymail/amazon_ses/tracking/"
SES_ID = "0100019a-sns-test-message-000000000000"
ADDRESS = "office000@bhxh-hanoi.example.vn"
TOPIC = "arn:aws:sns:ap-southeast-1:123456789012:ses-events"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"hook:secret").decode()}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(key=KEY, days: int = 30, start: int = -1) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    built = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now + timedelta(days=start))
             .not_valid_after(now + timedelta(days=start + days)).sign(key, hashes.SHA256()))  # fmt: skip
    return built.public_bytes(Encoding.PEM)


class CertificateHost(ThreadingHTTPServer):
    """Amazon's certificate host, on loopback: serves `files` by path and counts the requests."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.requests.append(self.path)
                body = host.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def host(settings):
    server = CertificateHost()
    server.files["/SimpleNotificationService-test.pem"] = certificate()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SNS_CERTIFICATE_URL_PATTERN = rf"http://127\.0\.0\.1:{server.server_address[1]}/[A-Za-z0-9_.-]+\.pem"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:secret"}
    paths = ("/SimpleNotificationService-test.pem", "/expired.pem", "/huge.pem", "/missing.pem")
    cache.delete_many(["sns-certificate:" + hashlib.sha256(server.url(p).encode()).hexdigest() for p in paths])
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sent(issue_to) -> Delivery:
    delivery = issue_to(1).deliveries.get()
    Delivery.objects.claim([delivery.pk])
    Delivery.objects.record_sent([(delivery.pk, SES_ID, delivery.created_at)])
    return Delivery.objects.get(pk=delivery.pk)


def bounce_message(
    host, version: str = "2", key=KEY, at: datetime | None = None, cert_path: str | None = None, **changes
) -> dict:
    """Return an SNS Notification carrying an SES permanent bounce of SES_ID, signed as SNS signs."""
    event = {"eventType": "Bounce", "mail": {"messageId": SES_ID, "destination": [ADDRESS], "timestamp": "2026-12-04T08:00:00.000Z"},
             "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-12-04T08:00:01.000Z",
                        "bouncedRecipients": [{"emailAddress": ADDRESS, "diagnosticCode": "smtp; 550 5.1.1 no mailbox"}]}}  # fmt: skip
    message = {
        "Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC, "Message": json.dumps(event),
        "Timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "SignatureVersion": version,
        "SigningCertURL": host.url(cert_path or "/SimpleNotificationService-test.pem"),
    }  # fmt: skip
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    message["Signature"] = base64.b64encode(key.sign(sns.string_to_sign(message), padding.PKCS1v15(), digest)).decode()
    message.update(changes)
    return message


def post(client, message: dict):
    headers = {**AUTH, "x-amz-sns-message-type": message["Type"], "x-amz-sns-message-id": message["MessageId"]}
    return client.post(URL, data=json.dumps(message), content_type="text/plain; charset=UTF-8", headers=headers)


def unchanged(delivery: Delivery) -> bool:
    delivery.refresh_from_db()
    return delivery.status == DeliveryStatus.SENT and not Suppression.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["1", "2"])
def test_a_bounce_signed_by_sns_marks_the_delivery_bounced_and_suppresses_the_address(client, host, sent, version):
    assert post(client, bounce_message(host, version)).status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.BOUNCED
    assert Suppression.objects.filter(address=ADDRESS).exists()


@pytest.mark.django_db
def test_a_message_changed_after_signing_changes_nothing(client, host, sent):
    forged = bounce_message(host)
    forged["Message"] = forged["Message"].replace("Permanent", "Permanent ")
    assert post(client, forged).status_code == 400
    assert unchanged(sent)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["Signature", "SignatureVersion", "SigningCertURL", "Timestamp"])
def test_a_message_without_its_signature_fields_changes_nothing(client, host, sent, field):
    message = bounce_message(host)
    del message[field]
    assert post(client, message).status_code == 400
    assert unchanged(sent)


@pytest.mark.django_db
def test_a_message_signed_by_another_key_changes_nothing(client, host, sent):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(client, bounce_message(host, key=stranger)).status_code == 400
    assert unchanged(sent)


@pytest.mark.django_db
def test_a_certificate_outside_the_sns_hosts_is_never_fetched(client, host, sent, settings):
    settings.SNS_CERTIFICATE_URL_PATTERN = r"https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9_./-]+\.pem"
    assert post(client, bounce_message(host)).status_code == 400
    assert host.requests == [] and unchanged(sent)


@pytest.mark.django_db
def test_the_default_address_rule_takes_only_amazon_sns_hosts_over_https(settings):
    pattern = re.compile(settings.SNS_CERTIFICATE_URL_PATTERN)
    good = "https://sns.ap-southeast-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem"
    assert pattern.fullmatch(good)
    for bad in ("http://sns.ap-southeast-1.amazonaws.com/x.pem", "https://sns.ap-southeast-1.amazonaws.com.evil.vn/x.pem",
                "https://sns.ap-southeast-1.amazonaws.com@evil.vn/x.pem", "https://evil.vn/sns.a.amazonaws.com/x.pem",
                "https://sns.ap-southeast-1.amazonaws.com/x.pem?u=https://evil.vn/"):  # fmt: skip
        assert not pattern.fullmatch(bad), bad


@pytest.mark.django_db
def test_an_expired_or_oversized_certificate_changes_nothing(client, host, sent):
    host.files["/expired.pem"] = certificate(days=10, start=-20)
    host.files["/huge.pem"] = certificate() + b"\n" * (sns.CERTIFICATE_MAX_BYTES + 1)
    assert post(client, bounce_message(host, cert_path="/expired.pem")).status_code == 400
    assert post(client, bounce_message(host, cert_path="/huge.pem")).status_code == 400
    assert post(client, bounce_message(host, cert_path="/missing.pem")).status_code == 400
    assert unchanged(sent)


@pytest.mark.django_db
def test_an_answer_that_is_no_certificate_is_not_kept(client, host, sent):
    host.files["/SimpleNotificationService-test.pem"] = b"<html>Service Unavailable</html>"
    assert post(client, bounce_message(host)).status_code == 400
    host.files["/SimpleNotificationService-test.pem"] = certificate()
    assert post(client, bounce_message(host)).status_code == 200  # fetched again, not refused for a day
    assert host.requests == ["/SimpleNotificationService-test.pem"] * 2


@pytest.mark.django_db
def test_the_certificate_is_fetched_once_for_many_messages(client, host, issue_to):
    for _ in range(3):
        assert post(client, bounce_message(host)).status_code == 200
    assert host.requests == ["/SimpleNotificationService-test.pem"]


@pytest.mark.django_db
def test_a_replayed_or_stale_message_changes_nothing(client, host, sent):
    delivered = bounce_message(host)
    event = json.loads(delivered["Message"])
    event.update(eventType="Delivery", delivery={"timestamp": "2026-12-04T08:00:01.000Z", "recipients": [ADDRESS]})
    del event["bounce"]
    delivered = resigned(delivered, Message=json.dumps(event))
    assert post(client, delivered).status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED
    replayed_bounce = resigned(bounce_message(host), MessageId=delivered["MessageId"])
    assert post(client, replayed_bounce).status_code == 400  # a MessageId already accepted
    stale = bounce_message(host, at=datetime.now(UTC) - timedelta(hours=2))
    assert post(client, stale).status_code == 400
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED and not Suppression.objects.exists()


@pytest.mark.django_db
def test_a_topic_not_allowed_changes_nothing(client, host, sent, settings):
    settings.SNS_TOPIC_ARNS = ["arn:aws:sns:ap-southeast-1:123456789012:other-topic"]
    assert post(client, bounce_message(host)).status_code == 400
    assert unchanged(sent)
    settings.SNS_TOPIC_ARNS = [TOPIC]
    assert post(client, bounce_message(host)).status_code == 200


@pytest.mark.django_db
def test_a_forged_subscription_confirmation_is_refused_before_anything_is_confirmed(client, host):
    message = {"Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC, "Token": "t",
               "Message": "You have chosen to subscribe", "SubscribeURL": "https://sns.ap-southeast-1.amazonaws.com/?Action=ConfirmSubscription",
               "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "SignatureVersion": "1",
               "Signature": base64.b64encode(b"\0" * 256).decode(), "SigningCertURL": host.url("/SimpleNotificationService-test.pem")}  # fmt: skip
    assert post(client, message).status_code == 400


def test_the_signed_string_follows_the_sns_field_order():
    message = {"Type": "Notification", "TopicArn": "t", "Timestamp": "s", "Subject": "j", "MessageId": "i", "Message": "m",
               "UnsignedField": "x"}  # fmt: skip
    assert (
        sns.string_to_sign(message)
        == b"Message\nm\nMessageId\ni\nSubject\nj\nTimestamp\ns\nTopicArn\nt\nType\nNotification\n"
    )
    with pytest.raises(sns.Unverified):
        sns.string_to_sign({"Type": "Notification", "Message": ["not", "a", "string"]})


def resigned(message: dict, **changes) -> dict:
    """Return the message with `changes`, signed again by the SNS key (a genuine message with those values)."""
    message = {**message, **changes}
    digest = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    message["Signature"] = base64.b64encode(KEY.sign(sns.string_to_sign(message), padding.PKCS1v15(), digest)).decode()
    return message
