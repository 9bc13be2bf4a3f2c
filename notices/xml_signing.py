"""Sign XML documents (the edXML packages) with the agency's certificate: XML-DSig, enveloped, RSA-SHA256.

The key and certificate are the ones that sign the PDFs (`signing.configured_signer`: SIGNING_PKCS12_PATH, or the
development certificate). The signature covers the whole document (reference URI ""), so the header and every
attachment inside it; it takes the place of a `ds:Signature` placeholder the builder puts where the standard wants
it, and carries the agency certificate in its KeyInfo so a receiver can check it without asking us.
"""

from __future__ import annotations

from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod, XMLSigner, XMLVerifier
from signxml.verifier import VerifyResult

from notices import signing

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
PLACEHOLDER_ID = "placeholder"  # signxml puts the signature where an element `ds:Signature Id="placeholder"` is


def signature_placeholder() -> etree._Element:
    """Return the empty `ds:Signature` element that marks where the signature goes."""
    return etree.Element(f"{{{DS_NS}}}Signature", Id=PLACEHOLDER_ID, nsmap={"ds": DS_NS})


def agency_certificate() -> x509.Certificate:
    """Return the agency's signing certificate (the one in the signed packages' KeyInfo)."""
    certificate = signing.configured_signer().signing_cert
    if certificate is None:
        raise signing.SigningError("The signing certificate file holds no certificate.")
    return x509.load_der_x509_certificate(certificate.dump())


def agency_certificate_pem() -> str:
    """Return the agency's signing certificate in PEM, as a receiver of a package would be given it."""
    return agency_certificate().public_bytes(serialization.Encoding.PEM).decode()


def xml_signer() -> XMLSigner:
    """Return the signer of our packages: enveloped, RSA-SHA256, SHA-256 digests, exclusive canonical XML."""
    return XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )


def sign(root: etree._Element) -> bytes:
    """Return the document signed with the agency's key, serialised as UTF-8 with its XML declaration.

    Raise `signing.SigningError` when no certificate is configured: an unsigned package is never handed out.
    """
    if not signing.is_configured():
        raise signing.SigningError("No signing certificate is configured (SIGNING_PKCS12_PATH).")
    signer = signing.configured_signer()
    signed = xml_signer().sign(root, key=signer.private_key, cert=[agency_certificate()])
    # Serialised as signed: re-indenting would change the canonical form and break the signature.
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify(data: bytes, certificate: x509.Certificate | None = None) -> VerifyResult:
    """Return what the package's signature covers, checked against `certificate` (the agency's by default).

    Raise `signxml.exceptions.InvalidSignature` (or a subclass) when the document was changed or signed by
    another key. Large attachments need lxml's huge-tree mode; the package is our own, so that is safe.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(data, parser)
    # One reference is expected (the whole document), so signxml returns one result, not a list.
    return cast(VerifyResult, XMLVerifier().verify(root, x509_cert=certificate or agency_certificate()))
