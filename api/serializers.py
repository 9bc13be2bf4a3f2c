"""What the API reads and writes, as DRF serializers (the OpenAPI schema is drawn from them)."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from notices.models import Delivery, DeliveryStatus, DispatchStatus, DraftingUnit, MatchKey, Secrecy, Signer, Urgency
from recipients.columns import COLUMN_KEYS
from recipients.models import Organization, RecipientGroup

MAX_LINES = 200
MAX_TARGETS = 1000


def organization_by_code(code: str) -> Organization | None:
    """Return the one organisation whose BHXH unit code, tax code or agency code is `code` (None: none or several)."""
    code = code.strip()
    found = list(
        Organization.objects.filter(Q(bhxh_code=code.upper()) | Q(agency_code=code.upper()) | Q(tax_code=code))[:2]
    )
    return found[0] if len(found) == 1 else None


class Base64File(serializers.CharField):
    """A file sent as base64 text, at most `max_bytes` once decoded."""

    def __init__(self, max_bytes: int, **kwargs) -> None:
        self.max_bytes = max_bytes
        super().__init__(max_length=(max_bytes * 4) // 3 + 4, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data) -> bytes:
        text = super().to_internal_value(data)
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError(_("Not valid base64.")) from exc
        if not decoded:
            raise serializers.ValidationError(_("The file is empty."))
        if len(decoded) > self.max_bytes:
            raise serializers.ValidationError(
                _("The file is too large: at most %(max)d bytes.") % {"max": self.max_bytes}
            )
        return decoded


class AppendixIn(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    content_base64 = Base64File(settings.API_FILE_MAX_BYTES, help_text=_("The appendix as a PDF, base64."))


class MergeDataIn(serializers.Serializer):
    file_name = serializers.RegexField(r"(?i)^[^/\\]{1,200}\.(csv|xlsx)$", help_text=_("e.g. so-tien-no.xlsx"))
    match_key = serializers.ChoiceField(MatchKey.choices)
    content_base64 = Base64File(settings.API_FILE_MAX_BYTES)


def lines_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=500), max_length=MAX_LINES, **kwargs)


class DraftIn(serializers.Serializer):
    """A draft as a client system sends it (every field optional on update)."""

    drafting_unit = serializers.CharField(max_length=20, help_text=_("The drafting unit's abbreviation, e.g. QLT."))
    signer = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=_("The signer's id."))
    subject = serializers.CharField(max_length=500)
    addressees = lines_field(required=False, help_text=_("The “Kính gửi” lines; empty: the groups and organisations."))
    body = serializers.CharField(max_length=200_000, help_text=_("HTML; sanitised exactly as in the admin."))
    urgency = serializers.ChoiceField(Urgency.choices, required=False, allow_blank=True)
    secrecy = serializers.ChoiceField(Secrecy.choices, required=False, allow_blank=True)
    extra_distribution = lines_field(required=False)
    groups = serializers.ListField(child=serializers.CharField(max_length=200), max_length=MAX_TARGETS, required=False,
                                   help_text=_("Recipient groups by name."))  # fmt: skip
    organizations = serializers.ListField(child=serializers.CharField(max_length=20), max_length=MAX_TARGETS,
                                          required=False, help_text=_("Organisations by code."))  # fmt: skip
    appendices = AppendixIn(many=True, required=False, max_length=20)
    merge_data = MergeDataIn(required=False, help_text=_("Personalised copies: the merge data file."))

    def validate_subject(self, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise serializers.ValidationError(_("The subject must be one line without control characters."))
        return value

    def validate_drafting_unit(self, value: str) -> DraftingUnit:
        unit = DraftingUnit.objects.select_related("issuer").filter(abbreviation=value.strip()).first()
        if unit is None:
            raise serializers.ValidationError(
                _("No drafting unit has the abbreviation “%(value)s”.") % {"value": value}
            )
        return unit

    def validate_signer(self, value: int) -> Signer:
        signer = Signer.objects.filter(pk=value, active=True).first()
        if signer is None:
            raise serializers.ValidationError(_("No active signer has this id."))
        return signer

    def validate_groups(self, names: list[str]) -> list[RecipientGroup]:
        groups = {g.name: g for g in RecipientGroup.objects.filter(name__in=names)}
        unknown = [name for name in names if name not in groups]
        if unknown:
            raise serializers.ValidationError(_("Unknown groups: %(names)s.") % {"names": ", ".join(unknown[:20])})
        return list(groups.values())

    def validate_organizations(self, codes: list[str]) -> list[Organization]:
        found = {code: organization_by_code(code) for code in codes}
        unknown = [code for code, org in found.items() if org is None]
        if unknown:
            raise serializers.ValidationError(
                _("No single organisation has these codes: %(codes)s.") % {"codes": ", ".join(unknown[:20])})  # fmt: skip
        return [org for org in found.values() if org is not None]

    def validate(self, attrs: dict) -> dict:
        unit, signer = attrs.get("drafting_unit"), attrs.get("signer")
        instance = self.instance
        unit_issuer = unit.issuer_id if unit else (instance.issuer_id if instance else None)
        if signer and unit_issuer and signer.issuer_id != unit_issuer:
            raise serializers.ValidationError({"signer": [_("This signer belongs to another issuer.")]})
        return attrs


class DraftCreateIn(DraftIn):
    pass


class DraftUpdateIn(DraftIn):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)


class LinksOut(serializers.Serializer):
    pdf = serializers.CharField(allow_blank=True)
    edxml = serializers.CharField(allow_blank=True)
    deliveries = serializers.CharField()


class DispatchOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(DispatchStatus.choices)
    subject = serializers.CharField()
    notation = serializers.CharField(allow_blank=True)
    urgency = serializers.CharField(allow_blank=True)
    secrecy = serializers.CharField(allow_blank=True)
    personalised = serializers.BooleanField()
    issued_at = serializers.DateTimeField(allow_null=True)
    return_comment = serializers.CharField(allow_blank=True)
    counts = serializers.DictField(child=serializers.IntegerField(), help_text=_("Deliveries per status."))
    acknowledged = serializers.IntegerField()


class DeliveryOut(serializers.ModelSerializer):
    organization_code = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "kind", "status", "address", "organization_id", "organization_code", "organization_name",
                  "sent_at", "acknowledged_at", "updated_at"]  # fmt: skip

    def get_organization_code(self, delivery) -> str:
        org = delivery.organization
        return (org.bhxh_code or org.agency_code or org.tax_code) if org else ""


class DeliveryPage(serializers.Serializer):
    results = DeliveryOut(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text=_("Pass as ?cursor= for the next page."))


class ReasonIn(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CallbackIn(serializers.Serializer):
    url = serializers.URLField(max_length=500, allow_blank=True, help_text=_("https:// URL; empty: no callbacks."))


class CallbackOut(serializers.Serializer):
    url = serializers.CharField(allow_blank=True)
    secret = serializers.CharField(help_text=_("The HMAC-SHA256 key of the X-Congvan-Signature header."))


class OrganizationOut(serializers.ModelSerializer):
    emails = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "name", "short_name", "kind", "level", "area", "agency_code", "bhxh_code", "tax_code",
                  "phone", "address", "tags", "valid_from", "valid_to", "active", "emails"]  # fmt: skip

    def get_emails(self, org) -> list[str]:
        return [e.address for e in org.emails.order_by("-primary", "address")]


class OrganizationIn(serializers.Serializer):
    """One row of the directory, as in the CSV import (the same columns; addresses as a list)."""

    name = serializers.CharField(max_length=1000)
    kind = serializers.CharField(max_length=100, required=False, allow_blank=True)
    emails = serializers.ListField(child=serializers.CharField(max_length=254), max_length=50)
    short_name = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    level = serializers.CharField(max_length=100, required=False, allow_blank=True)
    area = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    agency_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    bhxh_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tax_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    tags = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    valid_from = serializers.CharField(max_length=20, required=False, allow_blank=True)
    valid_to = serializers.CharField(max_length=20, required=False, allow_blank=True)
    active = serializers.CharField(max_length=10, required=False, allow_blank=True)


class BulkIn(serializers.Serializer):
    organizations = OrganizationIn(many=True, max_length=5000, min_length=1)
    group = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                  help_text=_("Also make them members of this static group."))  # fmt: skip


class RowErrorOut(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("1 is the first organisation of the request."))
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class BulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)
    errors = RowErrorOut(many=True, required=False)


ROW_COLUMNS = [key for key in COLUMN_KEYS if key in OrganizationIn().fields and key != "emails"]
STATUSES = [s.value for s in DeliveryStatus]
