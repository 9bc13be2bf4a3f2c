"""DKIM signatures (RFC 6376) on the messages the smtp transport sends, cheap enough for 100,000 recipients.

dkimpy does the DKIM part: the canonicalisation policy, which header fields are signed and how, the tag list,
its folding and the header hash. Its own `DKIM.sign` also does the RSA signature in pure Python (about 8 ms of
CPU per message) and re-parses the whole message, body included, to find the headers; so this module composes
dkimpy's public pieces itself and hands the header digest to the `cryptography` package (OpenSSL) instead:
the one seam is `DkimSigner.rsa_sign`. The body hash is one SHA-256 pass over the bytes the builder already
assembled (no parse, no copy). Receivers, and `dkim.verify` in the tests, see an ordinary rsa-sha256 signature.

Each message's body differs (the organisation's name and acknowledgement link are in its text), so its body
hash cannot be shared between recipients: a hash of the attachments alone is not a prefix SHA-256 could resume.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from django.conf import settings
from dkim.canonicalization import CanonicalizationPolicy

# RFC 6376 §5.4.1's list, as dkimpy keeps it; From is signed twice so that no second From can be added.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version",
                  b"content-type", b"from")  # fmt: skip
CANONICALIZE = b"relaxed/simple"  # dkimpy's default: headers survive refolding, the body is hashed as sent


class DkimKeyError(ValueError):
    """The configured DKIM private key cannot be read or is not an RSA key of at least 1024 bits."""


def load_private_key(path: str) -> rsa.RSAPrivateKey:
    """Return the RSA private key in the PEM file at `path` (PKCS#1 or PKCS#8, unencrypted)."""
    try:
        with open(path, "rb") as pem:
            key = serialization.load_pem_private_key(pem.read(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise DkimKeyError(f"DKIM_PRIVATE_KEY_PATH {path!r}: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 1024:
        raise DkimKeyError(f"DKIM_PRIVATE_KEY_PATH {path!r} is not an RSA key of at least 1024 bits")
    return key


def public_key_record(key: rsa.RSAPrivateKey) -> str:
    """Return the DNS TXT record that publishes the key: "v=DKIM1; k=rsa; p=..."."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


class DkimSigner:
    """Sign messages for one domain and selector with one RSA key (rsa-sha256, relaxed/simple)."""

    def __init__(self, domain: str, selector: str, key: rsa.RSAPrivateKey) -> None:
        self.domain, self.selector, self.key = domain.encode(), selector.encode(), key
        self.policy = CanonicalizationPolicy.from_c_value(CANONICALIZE)

    def signature(self, message: bytes) -> bytes:
        """Return the DKIM-Signature header field (ending in CRLF) to put in front of `message` (CRLF lines)."""
        end = message.find(b"\r\n\r\n")
        if end < 0:
            raise ValueError("the message has no body")
        headers, _ = dkim.rfc822_parse(message[: end + 4])  # the header block only: never the 200 KB body
        body = memoryview(message)[end + 4 :]
        fields = [
            (b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", CANONICALIZE), (b"d", self.domain),
            (b"i", b"@" + self.domain), (b"q", b"dns/txt"), (b"s", self.selector),
            (b"t", str(int(time.time())).encode()), (b"h", b" : ".join(SIGNED_HEADERS)),
            (b"bh", self.body_hash(body)), (b"b", b"0" * 60),  # b= folds onto its own line, as dkimpy does
        ]  # fmt: skip
        return b"DKIM-Signature: " + self.header_value(fields, headers)

    def body_hash(self, body: memoryview) -> bytes:
        """Return bh=: the SHA-256 of the body under simple canonicalisation (trailing empty lines dropped)."""
        ending = bytes(body[-4:])
        if not ending.endswith(b"\r\n") or ending == b"\r\n\r\n":
            body = memoryview(self.policy.canonicalize_body(bytes(body)))  # rare: let dkimpy fix the ending
        return base64.b64encode(hashlib.sha256(body).digest())

    def header_value(self, fields: list[tuple[bytes, bytes]], headers: list) -> bytes:
        """Return the signature's value: the tags folded, the header hash signed into b=."""
        name = b"DKIM-Signature"
        value = dkim.RE_BTAG.sub(b"\\1", dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(name)))
        hasher = hashlib.sha256()
        dkim.hash_headers(hasher, self.policy, self.policy.canonicalize_headers(headers), SIGNED_HEADERS,
                          (name, b" " + value), dict(fields))  # fmt: skip
        fields[-1] = (b"b", base64.b64encode(self.rsa_sign(hasher.digest())))
        return dkim.fold(b"; ".join(b"=".join(f) for f in fields) + b"\r\n", namelen=len(name))

    def rsa_sign(self, digest: bytes) -> bytes:
        """Return the RSASSA-PKCS1-v1_5 signature of a SHA-256 digest (OpenSSL, through `cryptography`)."""
        return self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


@functools.cache
def signer_for(domain: str, selector: str, key_path: str) -> DkimSigner:
    """Return the signer of a configuration, its key read once per process."""
    return DkimSigner(domain, selector, load_private_key(key_path))


def configured_signer() -> DkimSigner | None:
    """Return the signer the settings describe, or None when DKIM is not configured."""
    if not (settings.DKIM_DOMAIN and settings.DKIM_SELECTOR and settings.DKIM_PRIVATE_KEY_PATH):
        return None
    return signer_for(settings.DKIM_DOMAIN, settings.DKIM_SELECTOR, str(settings.DKIM_PRIVATE_KEY_PATH))
