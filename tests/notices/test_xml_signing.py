"""XML-DSig of our XML documents with the agency certificate (signxml): enveloped, RSA-SHA256, the certificate inside."""

from __future__ import annotations

import pytest
from lxml import etree
from signxml.exceptions import InvalidSignature

from notices import signing, xml_signing

NS = "urn:example:package"


def document() -> etree._Element:
    """Return a small document with the signature placeholder in its header, as the edXML builder makes it."""
    root = etree.Element(f"{{{NS}}}Package", nsmap={None: NS})
    header = etree.SubElement(root, f"{{{NS}}}Header")
    etree.SubElement(header, f"{{{NS}}}Subject").text = "V/v phối hợp đôn đốc đóng BHXH"
    header.append(xml_signing.signature_placeholder())
    etree.SubElement(root, f"{{{NS}}}Body").text = "nội dung"
    return root


def test_the_signature_takes_the_placeholders_place_and_carries_the_agency_certificate(signing_certificate):
    signed = etree.fromstring(xml_signing.sign(document()))
    signature = signed.find(f"{{{NS}}}Header/{{{xml_signing.DS_NS}}}Signature")
    assert signature is not None and signature.get("Id") is None  # the placeholder replaced, not kept
    assert len(signed.findall(f".//{{{xml_signing.DS_NS}}}Signature")) == 1
    ds = {"ds": xml_signing.DS_NS}
    assert signature.find("ds:SignedInfo/ds:Reference", ds).get("URI") == ""  # the whole document
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", ds).get("Algorithm").endswith("#rsa-sha256")
    assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", ds).get("Algorithm").endswith("xml-exc-c14n#")
    embedded = signature.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=ds)
    assert "".join(embedded.split()) in "".join(xml_signing.agency_certificate_pem().splitlines()[1:-1])


def test_a_signed_document_verifies_and_a_changed_one_does_not(signing_certificate):
    data = xml_signing.sign(document())
    assert xml_signing.verify(data).signed_xml.findtext(f".//{{{NS}}}Subject") == "V/v phối hợp đôn đốc đóng BHXH"
    with pytest.raises(InvalidSignature):
        xml_signing.verify(data.replace("nội dung".encode(), "nội dung khác".encode()))


def test_a_document_signed_by_another_certificate_does_not_verify_against_ours(signing_certificate, settings,
                                                                               second_root):  # fmt: skip
    ours = xml_signing.agency_certificate()
    settings.SIGNING_PKCS12_PATH = str(second_root[0])
    with pytest.raises(InvalidSignature):
        xml_signing.verify(xml_signing.sign(document()), certificate=ours)


def test_nothing_is_signed_without_a_certificate(settings):
    settings.SIGNING_PKCS12_PATH, settings.DEBUG = "", False
    with pytest.raises(signing.SigningError, match="No signing certificate"):
        xml_signing.sign(document())
