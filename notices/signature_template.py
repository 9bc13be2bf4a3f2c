"""A PAdES signature made from a template: the CMS built once per certificate, only the digest and RSA value new.

pyHanko builds each signature's CMS object from scratch with asn1crypto (the certificates, the signed attributes,
the algorithm identifiers), which costs far more than the RSA operation itself; a personalised dispatch signs one
copy per organisation. Of a PAdES signature with no timestamp, only two parts differ from one document to the
next: the message digest inside the signed attributes and the signature over those attributes (PAdES leaves the
signing time out of the CMS; it is in the PDF's signature dictionary). Both have a fixed length, so a template
made by pyHanko itself is filled in place.

A template is only kept after proving it: two signatures made by pyHanko for two different digests and signing
times must differ in nothing but those two parts, else the signer keeps signing with pyHanko in full.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, replace

from asn1crypto import cms

TAG_SET = b"\x31"  # the signed attributes are signed as a SET OF; the SignerInfo holds them tagged [0]


@dataclass(frozen=True)
class SignatureTemplate:
    """A CMS signature with the places of its message digest and signature value."""

    der: bytes
    attrs_at: int  # where the signed attributes ([0] IMPLICIT SET OF) start in `der`
    attrs_length: int
    digest_at: int  # where the message digest starts, counted from `attrs_at`
    digest_length: int
    signature_at: int
    signature_length: int

    def fill(self, digest: bytes, sign_raw) -> cms.ContentInfo:
        """Return the CMS signature of `digest`; `sign_raw(data)` signs the DER of the signed attributes."""
        if len(digest) != self.digest_length:
            raise ValueError("the digest does not have the template's length")
        attrs = bytearray(self.der[self.attrs_at : self.attrs_at + self.attrs_length])
        attrs[self.digest_at : self.digest_at + self.digest_length] = digest
        signature = sign_raw(TAG_SET + bytes(attrs[1:]))
        if len(signature) != self.signature_length:
            raise ValueError("the signature does not have the template's length")
        der = b"".join((self.der[: self.attrs_at], attrs, self.der[self.attrs_at + self.attrs_length : self.signature_at],
                        signature, self.der[self.signature_at + self.signature_length :]))  # fmt: skip
        return cms.ContentInfo.load(der)


def parts_of(content: cms.ContentInfo) -> tuple[bytes, bytes, bytes]:
    """Return the DER of a CMS signature, of its signed attributes ([0] tagged) and its signature value."""
    signer_info = content["content"]["signer_infos"][0]
    return content.dump(), signer_info["signed_attrs"].dump(), signer_info["signature"].native


def only_place(haystack: bytes, needle: bytes) -> int | None:
    at = haystack.find(needle)
    return at if at >= 0 and haystack.find(needle, at + 1) < 0 else None


def template_of(
    first: cms.ContentInfo, second: cms.ContentInfo, digests: tuple[bytes, bytes]
) -> SignatureTemplate | None:
    """Return the template two signatures of `digests` prove, or None when they differ anywhere else."""
    (der, attrs, signature), (other_der, other_attrs, other_signature) = parts_of(first), parts_of(second)
    attrs_at, signature_at = only_place(der, attrs), only_place(der, signature)
    digest_at = only_place(attrs, digests[0])
    if attrs_at is None or signature_at is None or digest_at is None or signature_at < attrs_at + len(attrs):
        return None
    if (len(der), len(attrs), len(signature)) != (len(other_der), len(other_attrs), len(other_signature)):
        return None
    expected = bytearray(der)
    expected[attrs_at + digest_at : attrs_at + digest_at + len(digests[1])] = digests[1]
    expected[signature_at : signature_at + len(signature)] = other_signature
    if bytes(expected) != other_der:
        return None
    return SignatureTemplate(der, attrs_at, len(attrs), digest_at, len(digests[0]), signature_at, len(signature))


async def proven_template(sign, digest_length: int, settings) -> SignatureTemplate | None:
    """Return a template for signatures `sign(digest, settings)` makes (pyHanko's own `async_sign`), or None.

    The two probes have different digests and different signing times: a template is kept only when nothing else
    of the signature changes.
    """
    digests = (secrets.token_bytes(digest_length), secrets.token_bytes(digest_length))
    now = datetime.datetime.now(datetime.UTC)
    times = (now, now - datetime.timedelta(days=1, seconds=1))
    first = await sign(digests[0], replace(settings, signing_time=times[0]))
    second = await sign(digests[1], replace(settings, signing_time=times[1]))
    return template_of(first, second, digests)
