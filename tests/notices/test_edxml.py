"""The edXML package (QCVN 102:2016) of a really issued and signed dispatch, parsed back with lxml."""

from __future__ import annotations

import base64
import hashlib

import pytest
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidSignature

from notices import edxml, issuing, xml_signing
from notices.models import Urgency
from recipients.models import OrganizationKind
from tests.conftest import make_group
from tests.notices.conftest import appendix, issue_as_number, stored_pdf
from tests.notices.edxml_fixtures import ISSUER_CODE, body, issued_as_stored

pytestmark = pytest.mark.django_db
NS = {"e": edxml.NS, "ds": xml_signing.DS_NS, "xlink": edxml.XLINK_NS}


def parse(package: bytes) -> etree._Element:
    return etree.fromstring(package, etree.XMLParser(resolve_entities=False, huge_tree=True))


def text(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0].text or ""


def header(path: str) -> str:
    return f"/e:edXML/e:edXMLEnvelope/e:edXMLHeader/{path}"


def test_the_package_has_the_standards_envelope_in_its_namespace(exported):
    root = parse(edxml.package_for(exported))
    assert root.tag == f"{{{edxml.NS}}}edXML"
    envelope, encoded = root
    assert envelope.tag == f"{{{edxml.NS}}}edXMLEnvelope" and encoded.tag == f"{{{edxml.NS}}}AttachmentEncoded"
    assert [etree.QName(child).localname for child in envelope] == ["edXMLHeader", "edXMLBody"]
    parts = envelope.find("e:edXMLHeader", NS)
    assert [etree.QName(child).localname for child in parts] == ["MessageHeader", "TraceHeaderList", "Signature"]
    assert parts[2].tag == f"{{{xml_signing.DS_NS}}}Signature"
    assert envelope.find("e:edXMLBody/e:edXMLManifest", NS) is not None
    assert envelope.prefix == "edXML" and root.prefix is None  # the exchange's own packages are written so


def test_the_message_header_names_the_document_as_the_standard_says(exported):
    root = parse(edxml.package_for(exported))
    message = header("e:MessageHeader")
    assert text(root, f"{message}/e:DocumentId") == f"{ISSUER_CODE},2026/03/05,05/BHXH-QLT"
    assert text(root, f"{message}/e:Code/e:CodeNumber") == "05"
    assert text(root, f"{message}/e:Code/e:CodeNotation") == "BHXH-QLT"
    assert text(root, f"{message}/e:From/e:OrganId") == ISSUER_CODE
    assert text(root, f"{message}/e:From/e:OrganName") == "BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI"
    assert text(root, f"{message}/e:From/e:OrganizationInCharge") == "BẢO HIỂM XÃ HỘI VIỆT NAM"
    assert text(root, f"{message}/e:PromulgationInfo/e:Place") == "Hà Nội"
    assert text(root, f"{message}/e:PromulgationInfo/e:PromulgationDate") == "2026/03/05"
    assert text(root, f"{message}/e:DocumentType/e:TypeName") == "Công văn"
    assert text(root, f"{message}/e:Subject") == "phối hợp đôn đốc đóng BHXH, BHYT năm 2026"
    assert "đề nghị Quý cơ quan phối hợp" in text(root, f"{message}/e:Content")
    assert text(root, f"{message}/e:SignerInfo/e:Competence") == "KT. GIÁM ĐỐC"
    assert text(root, f"{message}/e:SignerInfo/e:Position") == "PHÓ GIÁM ĐỐC"
    assert text(root, f"{message}/e:SignerInfo/e:FullName") == "Nguyễn Văn Minh"
    assert text(root, f"{message}/e:OtherInfo/e:Priority") == "0"
    assert text(root, f"{message}/e:OtherInfo/e:PageAmount") == "1"
    assert root.xpath(f"{message}/e:ResponseFor", namespaces=NS) == []
    # A new document (business type 0), traced to the issuer at the issue time.
    assert text(root, header("e:TraceHeaderList/e:Bussiness/e:BussinessDocType")) == "0"
    assert text(root, header("e:TraceHeaderList/e:TraceHeader/e:OrganId")) == ISSUER_CODE
    assert text(root, header("e:TraceHeaderList/e:TraceHeader/e:Timestamp")) == "2026/03/05 09:30:00"


def test_to_names_each_state_recipient_with_an_agency_code_and_to_places_the_addressees(exported):
    root = parse(edxml.package_for(exported))
    codes = [e.text for e in root.xpath(header("e:MessageHeader/e:To/e:OrganId"), namespaces=NS)]
    assert codes == ["000.00.00.H26", "000.00.01.H26"]  # not the employer, not the body without a code
    names = [e.text for e in root.xpath(header("e:MessageHeader/e:To/e:OrganName"), namespaces=NS)]
    assert names == ["UBND thành phố Hà Nội", "Công an thành phố Hà Nội"]
    places = [e.text for e in root.xpath(header("e:MessageHeader/e:ToPlaces/e:Place"), namespaces=NS)]
    assert places == ["UBND thành phố Hà Nội", "Công an thành phố Hà Nội", "X" * 150]  # at most 150 characters


def test_priority_is_the_standards_code_of_the_urgency(exported):
    priorities = {}
    for urgency in Urgency:
        exported.urgency = urgency  # not saved: an issued dispatch's urgency is frozen
        root = edxml.envelope(exported)
        priorities[urgency] = root.findtext(".//e:MessageHeader/e:OtherInfo/e:Priority", namespaces=NS)
    assert priorities == {Urgency.NORMAL: "0", Urgency.URGENT: "1", Urgency.VERY_URGENT: "2", Urgency.EXPRESS: "3"}


def test_the_attachments_are_the_stored_signed_pdf_and_appendix_byte_for_byte(
    draft, bodies, clerk, monkeypatch, signing_certificate, small_pdf
):
    appendix(draft, "phu-luc.pdf", small_pdf).save()
    exported = issue_as_number(draft, clerk, 5, monkeypatch)
    root = parse(edxml.package_for(exported))
    assert text(root, header("e:MessageHeader/e:OtherInfo/e:Appendixes/e:Appendix")) == "Danh sách"
    attachments = root.findall("e:AttachmentEncoded/e:Attachment", NS)
    decoded = [base64.b64decode(a.findtext("e:ContentTransferEncoded", namespaces=NS)) for a in attachments]
    assert decoded == [stored_pdf(exported), exported.appendices.get().read_mailed()]
    assert hashlib.sha256(decoded[0]).hexdigest() == exported.pdf_sha256
    names = [a.findtext("e:AttachmentName", namespaces=NS) for a in attachments]
    assert names == ["05-BHXH-QLT.pdf", "05-BHXH-QLT-phu-luc-1.pdf"]
    assert {a.findtext("e:ContentType", namespaces=NS) for a in attachments} == {"application/pdf"}
    references = root.findall("e:edXMLEnvelope/e:edXMLBody/e:edXMLManifest/e:Reference", NS)
    assert [r.findtext("e:ContentId", namespaces=NS) for r in references] == names
    assert [r.get(f"{{{edxml.XLINK_NS}}}href") for r in references] == [f"cid:{name}" for name in names]


def test_the_signature_verifies_against_the_agency_certificate(exported):
    package = edxml.package_for(exported)
    certificate = xml_signing.agency_certificate_pem()
    result = XMLVerifier().verify(parse(package), x509_cert=certificate)
    assert result.signed_xml is not None and result.signed_xml.tag == f"{{{edxml.NS}}}edXML"  # the whole package
    signature = parse(package).find(".//ds:Signature", NS)
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm").endswith("rsa-sha256")
    transforms = [t.get("Algorithm") for t in signature.iterfind(".//ds:Transform", NS)]
    assert "http://www.w3.org/2000/09/xmldsig#enveloped-signature" in transforms
    assert signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS) is not None


def test_a_changed_subject_or_attachment_fails_the_signature(exported):
    package = edxml.package_for(exported)
    forged_subject = parse(package)
    forged_subject.find(".//e:MessageHeader/e:Subject", NS).text = "V/v chuyển tiền vào tài khoản cá nhân"
    forged_file = parse(package)
    content = forged_file.find(".//e:AttachmentEncoded/e:Attachment/e:ContentTransferEncoded", NS)
    content.text = base64.b64encode(b"%PDF-1.7 forged").decode()
    for forged in (forged_subject, forged_file):
        with pytest.raises(InvalidSignature):
            XMLVerifier().verify(forged, x509_cert=xml_signing.agency_certificate_pem())
    XMLVerifier().verify(parse(package), x509_cert=xml_signing.agency_certificate_pem())  # the genuine one passes


def test_a_package_signed_by_another_certificate_fails_against_ours(exported, settings, second_root):
    ours = xml_signing.agency_certificate_pem()
    settings.SIGNING_PKCS12_PATH = str(second_root[0])  # a forger's certificate carrying the agency's names
    forged = edxml.package_for(exported)
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(parse(forged), x509_cert=ours)


def test_a_recalled_dispatch_exports_the_revoke_variant_without_its_files(exported, clerk):
    issuing.recall(exported, clerk, "Văn bản ban hành sai thẩm quyền.")
    exported.refresh_from_db()
    package = edxml.package_for(exported)
    root = parse(package)
    assert text(root, header("e:TraceHeaderList/e:Bussiness/e:BussinessDocType")) == "1"
    assert (
        text(root, header("e:TraceHeaderList/e:Bussiness/e:BussinessDocReason")) == "Văn bản ban hành sai thẩm quyền."
    )
    assert text(root, header("e:MessageHeader/e:DocumentId")) == f"{ISSUER_CODE},2026/03/05,05/BHXH-QLT"
    assert root.findall("e:AttachmentEncoded/e:Attachment", NS) == []
    assert edxml.file_name(exported) == "05-BHXH-QLT-thu-hoi.edxml"
    XMLVerifier().verify(root, x509_cert=xml_signing.agency_certificate_pem())


def test_a_replacement_says_which_document_it_replaces(exported, clerk, monkeypatch):
    replacement = exported.start_replacement(clerk)
    replacement.subject = "phối hợp đôn đốc đóng BHXH, BHYT năm 2026 (thay thế)"
    replacement.save()
    replacement = issue_as_number(replacement, clerk, 6, monkeypatch)
    root = parse(edxml.package_for(replacement))
    response_for = header("e:MessageHeader/e:ResponseFor")
    assert text(root, f"{response_for}/e:DocumentId") == f"{ISSUER_CODE},2026/03/05,05/BHXH-QLT"
    assert text(root, f"{response_for}/e:Code") == "05/BHXH-QLT"
    assert text(root, f"{response_for}/e:OrganId") == ISSUER_CODE
    assert text(root, header("e:MessageHeader/e:DocumentId")) == f"{ISSUER_CODE},2026/03/05,06/BHXH-QLT"
    business = header("e:TraceHeaderList/e:Bussiness")
    assert text(root, f"{business}/e:BussinessDocType") == "3"
    replaced = f"{business}/e:ReplacementInfoList/e:ReplacementInfo"
    assert text(root, f"{replaced}/e:DocumentId") == f"{ISSUER_CODE},2026/03/05,05/BHXH-QLT"
    codes = [e.text for e in root.xpath(f"{replaced}/e:OrganIdList/e:OrganId", namespaces=NS)]
    assert codes == ["000.00.00.H26", "000.00.01.H26"]


def test_a_secret_dispatch_is_refused(draft, bodies, clerk, signing_certificate, small_pdf):
    draft.secrecy = "mat"
    secret = issued_as_stored(draft, clerk, small_pdf)
    with pytest.raises(edxml.EdxmlRefused, match="MẬT: secret documents are never exchanged electronically"):
        edxml.package_for(secret)


def test_a_draft_is_refused(draft, bodies, signing_certificate):
    with pytest.raises(edxml.EdxmlRefused, match="Only an issued dispatch"):
        edxml.package_for(draft)


def test_a_personalised_dispatch_is_refused(draft, bodies, clerk, signing_certificate, small_pdf):
    draft.personalised = True
    with pytest.raises(edxml.EdxmlRefused, match="one copy per organisation"):
        edxml.package_for(issued_as_stored(draft, clerk, small_pdf))


def test_an_issuer_without_an_agency_code_is_refused(draft, bodies, clerk, signing_certificate, small_pdf):
    issued = issued_as_stored(draft, clerk, small_pdf)
    issued.issuer.agency_code = ""
    issued.issuer.save()
    with pytest.raises(edxml.EdxmlRefused, match="no agency code"):
        edxml.package_for(issued)


def test_a_dispatch_reaching_no_state_body_with_a_code_is_refused(draft, clerk, signing_certificate, small_pdf):
    draft.issuer.agency_code = ISSUER_CODE
    draft.issuer.save()
    draft.organizations.add(body("Công ty TNHH Minh Anh", "000.00.99.H26", OrganizationKind.EMPLOYER))
    draft.groups.add(make_group(2))  # offices without a code
    with pytest.raises(edxml.EdxmlRefused, match="None of this dispatch's recipients"):
        edxml.package_for(issued_as_stored(draft, clerk, small_pdf))


def test_without_a_signing_certificate_nothing_is_exported(draft, bodies, clerk, settings, small_pdf):
    settings.SIGNING_PKCS12_PATH = ""
    settings.DEBUG = False
    with pytest.raises(edxml.EdxmlRefused, match="No signing certificate"):
        edxml.package_for(issued_as_stored(draft, clerk, small_pdf))


def test_a_control_character_typed_in_a_line_does_not_stop_the_export(draft, bodies, clerk, signing_certificate,
                                                                      small_pdf):  # fmt: skip
    draft.addressees = "UBND thành phố\x01 Hà Nội"
    package = edxml.package_for(issued_as_stored(draft, clerk, small_pdf))
    assert text(parse(package), header("e:MessageHeader/e:ToPlaces/e:Place")) == "UBND thành phố Hà Nội"
