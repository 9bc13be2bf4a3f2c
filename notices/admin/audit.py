"""What auditors read: the outgoing register and the audit trail (the send history of every kind of delivery,
recall notices included, is in deliveries.py).

All of it is read-only, exactly counted with every page reachable (paging.py), and exportable to CSV and XLSX;
every export is itself audited.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from notices import people
from notices.admin import labels
from notices.admin.deliveries import deliveries_url
from notices.admin.paging import ExactChangeList
from notices.admin.records import FoldedSearchMixin, ReadOnlyAdmin, short_time
from notices.models import AuditEvent, Dispatch, DispatchStatus, OutgoingRegister
from notices.models.search import folded_contains
from notices.models.workflow import FROZEN_STATUSES

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class DeliveryStats(TypedDict):
        copies: int
        acknowledged: int
        sent_on: datetime.datetime | None

    RegisterRow = WithAnnotations[Dispatch, DeliveryStats]  # a dispatch with its delivery figures


class RegisterChangeList(ExactChangeList):
    """Compute the delivery figures for the shown page only: a million deliveries are never aggregated at once."""

    def get_results(self, request) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        page = OutgoingRegister.objects.filter(pk__in=[r.pk for r in rows]).only("pk").with_delivery_stats()
        stats: dict[int, RegisterRow] = {d.pk: d for d in page}
        for row in rows:
            row.copies, row.acknowledged, row.sent_on = (
                stats[row.pk].copies, stats[row.pk].acknowledged, stats[row.pk].sent_on,
            )  # fmt: skip
        self.result_list = rows


@admin.register(OutgoingRegister)
class OutgoingRegisterAdmin(FoldedSearchMixin, ReadOnlyAdmin):
    """The outgoing register (sổ đăng ký văn bản đi) with the Decree's columns."""

    export_name = "so-dang-ky-van-ban-di"
    list_per_page = 25  # ten wide columns, like a page of the paper register
    list_display = [
        "notation_col", "issued_date_col", "subject_col", "signer", "addressees_col", "file_copy_col", "copies",
        "sent_on", "acknowledged", "notes_col",
    ]  # fmt: skip
    list_filter = [("issued_at", admin.DateFieldListFilter), "status", "urgency", "drafting_unit", "series"]
    search_fields = ["subject"]
    folded_search_fields = ["search_subject"]
    list_select_related = ["issuer", "drafting_unit", "signer"]
    ordering = ["-issued_at", "-id"]
    readonly_fields = ["audit_trail"]
    fields = ["audit_trail"]

    def get_queryset(self, request):
        issued = super().get_queryset(request).filter(number__isnull=False).defer("body")
        replacements = Dispatch.objects.filter(status__in=FROZEN_STATUSES).select_related("issuer", "drafting_unit")
        issued = issued.select_related(
            "issuer", "drafting_unit", "signer", "merge_file", "replaces__issuer", "replaces__drafting_unit"
        ).prefetch_related(
            Prefetch("replacements", queryset=replacements.order_by("issued_at"), to_attr="issued_replacements")
        )
        return issued

    def get_changelist(self, request, **kwargs):
        return RegisterChangeList

    def get_search_results(self, request, queryset, search_term):
        number = re.match(r"^\s*0*(\d+)\s*(/|$)", search_term)
        if number:
            return queryset.filter(number=int(number.group(1))), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("number / notation"), ordering="number")
    def notation_col(self, dispatch: Dispatch) -> str:
        return dispatch.notation

    @admin.display(description=_("date"), ordering="issued_at")
    def issued_date_col(self, dispatch: Dispatch) -> str:
        return localtime(dispatch.issued_at).strftime("%d/%m/%Y")

    @admin.display(description=_("subject"), ordering="subject")
    def subject_col(self, dispatch: Dispatch) -> str:
        return dispatch.register_subject

    @admin.display(description=_("addressees"))
    def addressees_col(self, dispatch: Dispatch) -> str:
        if dispatch.personalised:  # its "Kính gửi" is a template each copy fills with its organisation's name
            return _t("each organisation targeted, with its own copy")
        return "; ".join(line for line in dispatch.addressees.splitlines() if line.strip()) or "—"

    @admin.display(description=_("unit keeping the file copy"))
    def file_copy_col(self, dispatch: Dispatch) -> str:
        return f"VT, {dispatch.drafting_unit.abbreviation}"

    @admin.display(description=_("copies"))
    def copies(self, dispatch: RegisterRow) -> int:
        return dispatch.copies

    @admin.display(description=_("date sent"))
    def sent_on(self, dispatch: RegisterRow) -> str:
        return short_time(dispatch.sent_on)

    @admin.display(description=_("receipt confirmed"))
    def acknowledged(self, dispatch: RegisterRow) -> int:
        return dispatch.acknowledged

    @admin.display(description=_("notes"))
    def notes_col(self, dispatch: Dispatch) -> str:
        return register_notes(dispatch)

    @admin.display(description=_("history"))
    def audit_trail(self, dispatch: Dispatch) -> str:
        events = AuditEvent.objects.for_object(dispatch).order_by("seq")
        rows = [audit_row(event) for event in events.select_related("actor")]
        context = {
            "dispatch": dispatch,
            "events": rows,
            "deliveries_url": deliveries_url(dispatch__id__exact=dispatch.pk),
        }
        return render_to_string("admin/notices/outgoingregister/_history.html", context)

    def export_header(self) -> list[str]:
        return [
            _t("number / notation"), _t("date"), _t("subject"), _t("signer"), _t("addressees"),
            _t("unit keeping the file copy"), _t("copies"), _t("date sent"), _t("receipt confirmed"), _t("notes"),
            _t("SHA-256 of the PDF sent"),
        ]  # fmt: skip

    def export_rows(self, queryset):
        for d in queryset.with_delivery_stats().iterator(chunk_size=500):
            yield [
                d.notation, d.issued_date, d.register_subject, d.signer.full_name, self.addressees_col(d), self.file_copy_col(d),
                d.copies, d.sent_on, d.acknowledged, register_notes(d), sent_pdf_sha256(d),
            ]  # fmt: skip


def sent_pdf_sha256(dispatch: Dispatch) -> str:
    """Return the SHA-256 of the PDF the dispatch was sent as; a personalised one sent each copy, with its own."""
    if dispatch.personalised:
        return _t("each copy its own (see the send history)")
    return dispatch.pdf_sha256


def register_notes(dispatch: Dispatch) -> str:
    """Return the register's notes column: secrecy, recall, replacement."""
    notes = []
    if dispatch.secrecy:
        notes.append(dispatch.get_secrecy_display())
    if dispatch.status == DispatchStatus.RECALLED:
        notes.append(_t("Recalled: %(reason)s") % {"reason": dispatch.recall_reason})
    if dispatch.replaces is not None:
        notes.append(_t("Replaces %(notation)s") % {"notation": dispatch.replaces.notation})
    replacements = getattr(dispatch, "issued_replacements", None)
    replacement = replacements[0] if replacements else (None if replacements is not None else dispatch.replaced_by)
    if replacement:
        notes.append(_t("Replaced by %(notation)s") % {"notation": replacement.notation})
    return "; ".join(notes)


def actor_label(event: AuditEvent) -> str:
    """Return who acted: the user's full name today, else the user name recorded then, else "System"."""
    actor = getattr(event, "actor", None) if event.actor_id else None  # the user may have been deleted since
    return people.full_name(actor) if actor is not None else (event.actor_name or _t("System"))


def audit_row(event: AuditEvent) -> dict:
    """Return one audit event as the dispatch history shows it: labels, not codes."""
    return {
        "seq": event.seq, "at": event.at, "action": event.action, "action_label": labels.action_label(event.action),
        "actor": actor_label(event), "ip": event.ip, "details": labels.details_label(event.details),
    }  # fmt: skip


class ChoiceCodeFilter(admin.SimpleListFilter):
    """Filter on a code column, offering the codes present with their labels."""

    field = ""
    label: Callable[[str], str]  # the code's label

    def lookups(self, request, model_admin):
        codes = AuditEvent.objects.order_by(self.field).values_list(self.field, flat=True).distinct()
        return sorted(((code, self.label(code)) for code in codes if code), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ActionFilter(ChoiceCodeFilter):
    title = _("action")
    parameter_name = field = "action"
    label = staticmethod(labels.action_label)


class ObjectTypeFilter(ChoiceCodeFilter):
    title = _("object type")
    parameter_name = field = "object_type"
    label = staticmethod(labels.object_type_label)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    export_name = "nhat-ky-kiem-toan"
    list_display = ["seq", "at_col", "actor_col", "action_col", "object_type_col", "object_link", "ip"]
    list_filter = [("at", admin.DateFieldListFilter), ActionFilter, ObjectTypeFilter]
    list_select_related = ["actor"]
    search_fields = ["=actor_name", "=object_id", "object_repr"]
    search_help_text = _("A user name or an object id (exactly), or words of the object's name.")
    ordering = ["-seq"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        exact = queryset.filter(Q(actor_name=term) | Q(object_id=term)).values("pk")
        named = folded_contains(queryset, ["object_repr"], term).values("pk")
        return queryset.filter(Q(pk__in=exact) | Q(pk__in=named)), False

    @admin.display(description=_("time"), ordering="seq")
    def at_col(self, event: AuditEvent) -> str:
        return localtime(event.at).strftime("%d/%m/%Y %H:%M:%S")

    @admin.display(description=_("actor"), ordering="actor_name")
    def actor_col(self, event: AuditEvent) -> str:
        return actor_label(event)

    @admin.display(description=_("action"), ordering="action")
    def action_col(self, event: AuditEvent) -> str:
        return labels.action_label(event.action)

    @admin.display(description=_("object type"), ordering="object_type")
    def object_type_col(self, event: AuditEvent) -> str:
        return labels.object_type_label(event.object_type)

    @admin.display(description=_("object"))
    def object_link(self, event: AuditEvent) -> str:
        if event.object_type == "notices.dispatch" and event.object_id:
            url = reverse("admin:notices_dispatch_change", args=[event.object_id])
            return format_html('<a href="{}">{}</a>', url, event.object_repr)
        return event.object_repr

    def export_header(self) -> list[str]:
        return [_t("sequence"), _t("time"), _t("actor"), _t("actor name"), _t("action"), _t("action code"),
                _t("object type"), _t("object id"), _t("object"), _t("IP address"), _t("details"),
                _t("previous hash"), _t("hash")]  # fmt: skip

    def export_rows(self, queryset):
        for e in queryset.select_related("actor").iterator(chunk_size=2000):
            yield [e.seq, e.at, actor_label(e), e.actor_name, labels.action_label(e.action), e.action,
                   labels.object_type_label(e.object_type), e.object_id, e.object_repr, e.ip, e.details,
                   e.prev_hash, e.hash]  # fmt: skip
