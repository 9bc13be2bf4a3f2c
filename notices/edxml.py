"""Export an issued dispatch as an edXML package (QCVN 102:2016/BTTTT) for the national document exchange.

The package, in the standard's namespace:

    edXML
      edXMLEnvelope
        edXMLHeader: MessageHeader, TraceHeaderList, ds:Signature
        edXMLBody: edXMLManifest (a Reference per attachment)
      AttachmentEncoded: an Attachment per file (the signed PDF, then each signed appendix), base64

MessageHeader names the issuer (From, by its agency code), each state body among the recipients that has an
agency code (To), the document (DocumentId "OrganId,yyyy/MM/dd,Số/Ký hiệu", Code, PromulgationInfo, DocumentType,
Subject, Content, SignerInfo, ToPlaces, OtherInfo with the urgency as Priority, ResponseFor for a replacement).
TraceHeaderList says what the package does ("Bussiness", the standard's spelling): a new document (0), a revoke
(1, a recalled dispatch: no attachments, the receivers discard theirs) or a replacement (3). The whole document is
signed with the agency's certificate (`xml_signing`). A secret dispatch is never exported.
"""

from __future__ import annotations

import base64
import datetime
import io
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from lxml import etree, html
from pypdf import PdfReader

from notices import people, signing, xml_signing
from notices.models import Dispatch, Urgency
from notices.models.choices import DispatchStatus
from notices.models.dispatch import DispatchError
from notices.models.workflow import FROZEN_STATUSES

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
XLINK_NS = "http://www.w3.org/1999/xlink"
SUBJECT_MAX = 500  # QCVN 102:2016: Subject at most 500 characters, each ToPlaces line at most 150
PLACE_MAX = 150
# OtherInfo/Priority: 0 normal, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc.
PRIORITY = {Urgency.NORMAL: "0", Urgency.URGENT: "1", Urgency.VERY_URGENT: "2", Urgency.EXPRESS: "3"}
NEW, REVOKE, REPLACE = "0", "1", "3"  # TraceHeaderList/Bussiness/BussinessDocType
ADMINISTRATIVE = "2"  # DocumentType/Type: 1 a legal normative document, 2 an administrative one (a công văn)
TYPE_NAME = "Công văn"
SPHERE = "Liên thông văn bản quốc gia"
ISSUED_REASON = "Văn bản điện tử mới"
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


class EdxmlRefused(DispatchError):
    """The dispatch cannot be exported as an edXML package (shown to the user)."""


@dataclass(frozen=True)
class Attachment:
    name: str
    description: str
    data: bytes
    content_type: str = "application/pdf"


def package_for(dispatch: Dispatch) -> bytes:
    """Return the signed edXML package of an issued dispatch (the revoke variant once it is recalled).

    Raise EdxmlRefused, with the reason, for a dispatch that is not issued, is secret or personalised, whose
    issuer has no agency code, that reaches no state body with one, or when no signing certificate is configured.
    The caller checks that the user may see the dispatch.
    """
    refusal = refusal_of(dispatch)
    if refusal is not None:
        raise EdxmlRefused(refusal)
    return xml_signing.sign(envelope(dispatch))


def refusal_of(dispatch: Dispatch):
    """Return why the dispatch cannot be exported now (a message), or None."""
    if not dispatch.number or not dispatch.pdf or dispatch.status not in FROZEN_STATUSES:
        return _("Only an issued dispatch can be exported as an edXML package.")
    if dispatch.is_secret:
        return _("This dispatch is marked %(secrecy)s: secret documents are never exchanged electronically.") % {
            "secrecy": dispatch.get_secrecy_display()
        }
    if dispatch.personalised:
        return _("A personalised dispatch has one copy per organisation: it cannot be one edXML package.")
    if not dispatch.issuer.agency_code:
        return _("The issuer has no agency code (the 13-character edXML organisation code): fill it in first.")
    if not receivers(dispatch):
        return _("None of this dispatch's recipients is a state body with an agency code: nobody to send it to.")
    if not signing.is_configured():
        return _("No signing certificate is configured: an edXML package must be signed.")
    return None


def receivers(dispatch: Dispatch) -> list:
    """Return the targeted state bodies with an agency code, in code order (one `To` each)."""
    targets = dispatch.target_organizations().edxml_receivers()
    return list(targets.prefetch_related("emails").order_by("agency_code"))


def file_name(dispatch: Dispatch) -> str:
    """Return the package's file name: "05-BHXH-QLT.edxml", "05-BHXH-QLT-thu-hoi.edxml" for the revoke."""
    return f"{stem(dispatch)}{'-thu-hoi' if is_revoke(dispatch) else ''}.edxml"


def stem(dispatch: Dispatch) -> str:
    return f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}"


def is_revoke(dispatch: Dispatch) -> bool:
    return dispatch.status == DispatchStatus.RECALLED


def attachments(dispatch: Dispatch) -> list[Attachment]:
    """Return the files the package carries: the signed PDF, then each signed appendix (none in a revoke)."""
    if is_revoke(dispatch):
        return []
    main = Attachment(f"{stem(dispatch)}.pdf", f"Văn bản số {dispatch.notation}", stored_pdf(dispatch))
    appendices = [
        Attachment(item.attachment_name(), str(item), item.read_mailed()) for item in dispatch.appendices.all()
    ]
    return [main, *appendices]


def stored_pdf(dispatch: Dispatch) -> bytes:
    """Return the issued, signed PDF exactly as stored."""
    dispatch.pdf.open("rb")
    with dispatch.pdf:
        return dispatch.pdf.read()


# --- The XML -------------------------------------------------------------------------------------
def element(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    """Append a child in the edXML namespace (with its text, if any) and return it."""
    child = etree.SubElement(parent, f"{{{NS}}}{tag}", attributes)
    if text is not None:
        child.text = NOT_XML.sub("", text)  # a stray control character in a typed line must not stop the export
    return child


def fields(parent: etree._Element, tag: str, values: dict[str, str]) -> etree._Element:
    """Append `tag` holding one child element per (name, text), in order; return it."""
    group = element(parent, tag)
    for name, text in values.items():
        element(group, name, text)
    return group


def envelope(dispatch: Dispatch) -> etree._Element:
    """Return the unsigned package of the dispatch, its signature placeholder in the header."""
    files = attachments(dispatch)
    root = etree.Element(f"{{{NS}}}edXML", nsmap={None: NS})
    # The envelope's elements carry the standard's "edXML:" prefix, as the exchange's own packages do.
    inner = etree.SubElement(root, f"{{{NS}}}edXMLEnvelope", nsmap={"edXML": NS, "xlink": XLINK_NS})
    header = element(inner, "edXMLHeader")
    message_header(header, dispatch)
    trace_header_list(header, dispatch)
    header.append(xml_signing.signature_placeholder())
    manifest = element(element(inner, "edXMLBody"), "edXMLManifest", version="1.0")
    for item in files:
        link = {f"{{{XLINK_NS}}}href": f"cid:{item.name}", f"{{{XLINK_NS}}}type": "simple"}
        fields(manifest, "Reference", reference_fields(item)).attrib.update(link)
    encoded = element(root, "AttachmentEncoded")
    for item in files:
        fields(encoded, "Attachment", {**reference_fields(item),
                                       "ContentTransferEncoded": base64.b64encode(item.data).decode("ascii")})  # fmt: skip
    return root


def reference_fields(item: Attachment) -> dict[str, str]:
    return {"ContentId": item.name, "ContentType": item.content_type, "Description": item.description,
            "AttachmentName": item.name}  # fmt: skip


def message_header(parent: etree._Element, dispatch: Dispatch) -> None:
    """Append the MessageHeader: who sends to whom, and what the document is."""
    issuer, signer = dispatch.issuer, dispatch.signer
    header = element(parent, "MessageHeader")
    fields(header, "From", {
        "OrganId": issuer.agency_code, "OrganizationInCharge": issuer.parent_body, "OrganName": issuer.name,
        "OrganAdd": issuer.address, "Email": issuer.email, "Telephone": issuer.phone, "Website": issuer.website,
    })  # fmt: skip
    for organization in receivers(dispatch):
        fields(header, "To", {
            "OrganId": organization.agency_code, "OrganName": organization.name, "OrganAdd": organization.address,
            "Email": organization.primary_email, "Telephone": organization.phone,
        })  # fmt: skip
    fields(header, "Code", code_of(dispatch))
    fields(header, "PromulgationInfo", {"Place": issuer.place, "PromulgationDate": promulgation_date(dispatch)})
    fields(header, "DocumentType", {"Type": ADMINISTRATIVE, "TypeName": TYPE_NAME})
    element(header, "Subject", dispatch.subject[:SUBJECT_MAX])
    element(header, "Content", body_text(dispatch.body))
    fields(header, "SignerInfo", {"Competence": signer.authority, "Position": signer.position,
                                  "FullName": signer.full_name})  # fmt: skip
    places = element(header, "ToPlaces")
    for line in dispatch.addressee_lines():
        element(places, "Place", line[:PLACE_MAX])
    other_info(header, dispatch)
    replaced = dispatch.replaces
    if replaced is not None:
        fields(header, "ResponseFor", {
            "OrganId": replaced.issuer.agency_code, "Code": replaced.notation,
            "PromulgationDate": promulgation_date(replaced), "DocumentId": document_id(replaced),
        })  # fmt: skip
    element(header, "SteeringType", "0")
    element(header, "DocumentId", document_id(dispatch))


def other_info(parent: etree._Element, dispatch: Dispatch) -> None:
    """Append OtherInfo: the priority from the urgency, the copies, the pages and the appendices' titles."""
    info = fields(parent, "OtherInfo", {
        "Priority": PRIORITY[Urgency(dispatch.urgency)], "SphereOfPromulgation": SPHERE,
        "TyperNotation": dispatch.drafting_unit.abbreviation,
        "PromulgationAmount": str(len(dispatch.addressee_lines())), "PageAmount": str(page_count(dispatch)),
    })  # fmt: skip
    appendixes = element(info, "Appendixes")
    for item in dispatch.appendices.all():
        element(appendixes, "Appendix", item.title)


def trace_header_list(parent: etree._Element, dispatch: Dispatch) -> None:
    """Append the TraceHeaderList: the issuer and the moment, and what the package does (new, revoke, replace)."""
    revoke = is_revoke(dispatch)
    moment = dispatch.recalled_at if revoke and dispatch.recalled_at else dispatch.issued_at
    traces = element(parent, "TraceHeaderList")
    fields(traces, "TraceHeader", {"OrganId": dispatch.issuer.agency_code, "Timestamp": timestamp(moment)})
    business = element(traces, "Bussiness")
    replaced = dispatch.replaces
    if revoke:
        element(business, "BussinessDocType", REVOKE)
        element(business, "BussinessDocReason", dispatch.recall_reason)
    elif replaced is not None:
        element(business, "BussinessDocType", REPLACE)
        element(business, "BussinessDocReason", f"Thay thế văn bản số {replaced.notation}")
        replacement = element(element(business, "ReplacementInfoList"), "ReplacementInfo")
        element(replacement, "DocumentId", document_id(replaced))
        organ_ids = element(replacement, "OrganIdList")
        for organization in receivers(replaced):
            element(organ_ids, "OrganId", organization.agency_code)
    else:
        element(business, "BussinessDocType", NEW)
        element(business, "BussinessDocReason", ISSUED_REASON)
    fields(business, "StaffInfo", {"Department": dispatch.drafting_unit.name,
                                   "Staff": people.full_name(dispatch.issued_by), "Email": dispatch.issuer.email})  # fmt: skip
    element(business, "Paper", "0")  # no paper copy follows


# --- Values --------------------------------------------------------------------------------------
def code_of(dispatch: Dispatch) -> dict[str, str]:
    """Return the Code: the number ("05") and the notation ("BHXH-QLT")."""
    return {"CodeNumber": dispatch.number_display,
            "CodeNotation": f"{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}"}  # fmt: skip


def promulgation_date(dispatch: Dispatch) -> str:
    """Return the issue day in Hà Nội as yyyy/MM/dd."""
    day = dispatch.issued_date
    return day.strftime("%Y/%m/%d") if day else ""


def document_id(dispatch: Dispatch) -> str:
    """Return "OrganId,yyyy/MM/dd,Số/Ký hiệu", e.g. "000.00.00.G22,2026/03/05,05/BHXH-QLT"."""
    return f"{dispatch.issuer.agency_code},{promulgation_date(dispatch)},{dispatch.notation}"


def timestamp(moment: datetime.datetime | None) -> str:
    """Return the moment in Hà Nội as yyyy/MM/dd HH:mm:ss."""
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M:%S") if moment else ""


def body_text(body: str) -> str:
    """Return the (sanitised) HTML body as plain text, one paragraph a line."""
    if not body.strip():
        return ""
    blocks = html.fragments_fromstring(body)
    lines = [block if isinstance(block, str) else block.text_content() for block in blocks]
    return "\n".join(line.strip() for line in lines if line.strip())


def page_count(dispatch: Dispatch) -> int:
    """Return the number of pages of the stored PDF (our own file, made at issue time)."""
    return len(PdfReader(io.BytesIO(stored_pdf(dispatch))).pages)
