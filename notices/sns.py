"""Amazon SNS message signatures: the Amazon SES webhooks accept only what Amazon SNS signed.

SNS signs each message it POSTs (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
a fixed list of the message's fields, as "name\\nvalue\\n" in a fixed order, with RSA PKCS#1 v1.5 over SHA-1
(SignatureVersion "1") or SHA-256 ("2"), by the certificate at SigningCertURL. That URL is trusted only on an
Amazon SNS host over HTTPS (SNS_CERTIFICATE_URL_PATTERN), fetched with a time and size limit and kept in the cache
for a day, so a forged message cannot point us at a certificate of its own. Basic auth alone says the caller knows
the secret; the signature says Amazon sent this very message. A message whose Timestamp is older than
SNS_MAX_AGE_SECONDS, or whose MessageId was already accepted, is refused too (notices.tracking.claim_signature).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import urllib.request
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache

SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
DIGESTS = {"1": hashes.SHA1, "2": hashes.SHA256}
CERTIFICATE_MAX_BYTES = 16 * 1024
CERTIFICATE_CACHE_SECONDS = 24 * 3600


class Unverified(Exception):
    """The message is not one Amazon SNS signed (the reason is for the log, never for the caller)."""


def string_to_sign(message: dict) -> bytes:
    """Return the bytes SNS signed for this message: each signed field present, as "name\\nvalue\\n"."""
    try:
        fields = SIGNED_FIELDS[message["Type"]]
    except (KeyError, TypeError) as exc:
        raise Unverified("not an SNS message type") from exc
    parts = []
    for name in fields:
        if name in message:
            value = message[name]
            if not isinstance(value, str):
                raise Unverified(f"the field {name} is not a string")
            parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def signed_at(message: dict) -> float:
    """Return the message's signed Timestamp (ISO 8601, UTC) as seconds since the epoch."""
    try:
        moment = datetime.fromisoformat(str(message["Timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise Unverified("the Timestamp is missing or not ISO 8601") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def fetch_certificate(url: str) -> x509.Certificate:
    """Return the certificate at an Amazon SNS certificate URL (fetched within a time and size limit), from the
    cache when seen; only a PEM that reads as a certificate is kept, so a bad answer is not remembered for a day."""
    if not re.fullmatch(settings.SNS_CERTIFICATE_URL_PATTERN, url):
        raise Unverified(f"the SigningCertURL {url!r} is not an Amazon SNS certificate address")
    key = "sns-certificate:" + hashlib.sha256(url.encode()).hexdigest()
    pem = cache.get(key)
    fetched = pem is None
    if fetched:
        try:
            with urllib.request.urlopen(url, timeout=settings.SNS_CERTIFICATE_TIMEOUT_SECONDS) as answer:  # noqa: S310 (the pattern allows only the SNS hosts)
                pem = answer.read(CERTIFICATE_MAX_BYTES + 1)
        except OSError as exc:
            raise Unverified(f"the signing certificate could not be fetched: {exc}") from exc
        if len(pem) > CERTIFICATE_MAX_BYTES:
            raise Unverified("the signing certificate is larger than a certificate")
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise Unverified("the signing certificate is not a PEM certificate") from exc
    if fetched:
        cache.set(key, pem, timeout=CERTIFICATE_CACHE_SECONDS)
    return certificate


def verify(message: dict) -> None:
    """Raise Unverified unless this SNS message (the parsed JSON body) carries Amazon SNS's valid signature."""
    if not isinstance(message, dict):
        raise Unverified("an SNS message is a JSON object")
    digest = DIGESTS.get(str(message.get("SignatureVersion")))
    if digest is None:
        raise Unverified(f"unknown SignatureVersion {message.get('SignatureVersion')!r}")
    try:
        signature = base64.b64decode(str(message["Signature"]), validate=True)
    except (KeyError, binascii.Error) as exc:
        raise Unverified("the Signature is missing or not base64") from exc
    signed = string_to_sign(message)
    certificate = fetch_certificate(str(message.get("SigningCertURL", "")))
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Unverified("the signing certificate is not valid today")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Unverified("the signing certificate's key is not RSA")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), digest())
    except InvalidSignature as exc:
        raise Unverified("the signature does not match the message") from exc
