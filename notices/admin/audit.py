"""What auditors read: the outgoing register, the send history with each delivery's timeline, and the audit trail.

All of it is read-only, fast on a million deliveries (no full counts, capped page counts, indexed orderings)
and exportable to CSV and XLSX; every export is itself audited.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from notices import audit, exports
from notices.admin.paging import CappedCountPaginator
from notices.admin.readonly import ReadOnlyMixin
from notices.models import AuditEvent, Delivery, Dispatch, OutgoingRegister, RecallNotice, SendRecord
from notices.models.workflow import FROZEN_STATUSES, has_role_permission
from recipients.models import Organization


def short_time(value) -> str:
    """Return "26/11/2026 14:05" in Hà Nội time ("—" for none); a plain strftime is cheap on long lists."""
    return localtime(value).strftime("%d/%m/%Y %H:%M") if value else "—"


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A list nobody changes from the admin, exportable by the roles that hold `export_records`."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    change_list_template = "admin/notices/export_change_list.html"
    export_name = "export"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        export = path(
            "export/<slug:fmt>/", self.admin_site.admin_view(self.export_view), name="{}_{}_export".format(*info)
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        can_export = has_role_permission(request.user, "export_records")
        return super().changelist_view(request, {**(extra_context or {}), "can_export": can_export})

    def export_view(self, request, fmt: str):
        """Stream the rows of the list as filtered and searched on screen, and audit the export."""
        if fmt not in ("csv", "xlsx") or not has_role_permission(request.user, "export_records"):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        details = {"list": self.opts.label_lower, "format": fmt, "filters": request.GET.dict()}
        audit.record(request.user, "export", None, details, request=request)
        return exports.response(fmt, self.export_name, self.export_header(), self.export_rows(queryset))

    def export_header(self) -> list[str]:
        raise NotImplementedError

    def export_rows(self, queryset):
        raise NotImplementedError


def delivery_count(**filters) -> Coalesce:
    """Return a per-dispatch count of deliveries as a correlated subquery (evaluated for shown rows only)."""
    rows = Delivery.objects.filter(dispatch=OuterRef("pk"), **filters).order_by().values("dispatch")
    count = rows.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def first_sent() -> Subquery:
    """Return when the dispatch's first email left, read from the (dispatch, sent_at) index."""
    rows = Delivery.objects.filter(dispatch=OuterRef("pk"), sent_at__isnull=False).order_by("sent_at")
    return Subquery(rows.values("sent_at")[:1])


def with_delivery_stats(queryset):
    """Return the dispatches with their copies, acknowledged copies and first sending time."""
    return queryset.annotate(
        copies=delivery_count(), acknowledged=delivery_count(acknowledged_at__isnull=False), sent_on=first_sent()
    )


class RegisterChangeList(ChangeList):
    """Compute the delivery figures for the shown page only: a million deliveries are never aggregated at once."""

    def get_results(self, request) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        page = Dispatch.objects.filter(pk__in=[r.pk for r in rows]).only("pk")
        stats = {d.pk: d for d in with_delivery_stats(page)}
        for row in rows:
            row.copies, row.acknowledged, row.sent_on = (
                stats[row.pk].copies, stats[row.pk].acknowledged, stats[row.pk].sent_on,
            )  # fmt: skip
        self.result_list = rows


@admin.register(OutgoingRegister)
class OutgoingRegisterAdmin(ReadOnlyAdmin):
    """The outgoing register (sổ đăng ký văn bản đi) with the Decree's columns."""

    export_name = "so-dang-ky-van-ban-di"
    list_per_page = 25  # ten wide columns, like a page of the paper register
    list_display = [
        "notation_col", "issued_date_col", "subject", "signer", "addressees_col", "file_copy_col", "copies",
        "sent_on", "acknowledged", "notes_col",
    ]  # fmt: skip
    list_filter = [("issued_at", admin.DateFieldListFilter), "status", "urgency", "drafting_unit", "series"]
    search_fields = ["subject"]
    list_select_related = ["issuer", "drafting_unit", "signer"]
    ordering = ["-issued_at", "-id"]
    readonly_fields = ["audit_trail"]
    fields = ["audit_trail"]

    def get_queryset(self, request):
        issued = super().get_queryset(request).filter(number__isnull=False).defer("body")
        replacements = Dispatch.objects.filter(status__in=FROZEN_STATUSES).select_related("issuer", "drafting_unit")
        issued = issued.select_related(
            "issuer", "drafting_unit", "signer", "replaces__issuer", "replaces__drafting_unit"
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

    @admin.display(description=_("addressees"))
    def addressees_col(self, dispatch: Dispatch) -> str:
        return "; ".join(line for line in dispatch.addressees.splitlines() if line.strip()) or "—"

    @admin.display(description=_("unit keeping the file copy"))
    def file_copy_col(self, dispatch: Dispatch) -> str:
        return f"VT, {dispatch.drafting_unit.abbreviation}"

    @admin.display(description=_("copies"))
    def copies(self, dispatch: Dispatch) -> int:
        return dispatch.copies

    @admin.display(description=_("date sent"))
    def sent_on(self, dispatch: Dispatch) -> str:
        return short_time(dispatch.sent_on)

    @admin.display(description=_("receipt confirmed"))
    def acknowledged(self, dispatch: Dispatch) -> int:
        return dispatch.acknowledged

    @admin.display(description=_("notes"))
    def notes_col(self, dispatch: Dispatch) -> str:
        return register_notes(dispatch)

    @admin.display(description=_("history"))
    def audit_trail(self, dispatch: Dispatch) -> str:
        events = AuditEvent.objects.for_object(dispatch).order_by("seq")
        deliveries = (
            reverse("admin:notices_sendrecord_changelist") + "?" + urlencode({"dispatch__id__exact": dispatch.pk})
        )
        context = {"dispatch": dispatch, "events": events, "deliveries_url": deliveries}
        return render_to_string("admin/notices/outgoingregister/_history.html", context)

    def export_header(self) -> list[str]:
        return [
            _t("number / notation"), _t("date"), _t("subject"), _t("signer"), _t("addressees"),
            _t("unit keeping the file copy"), _t("copies"), _t("date sent"), _t("receipt confirmed"), _t("notes"),
        ]  # fmt: skip

    def export_rows(self, queryset):
        for d in with_delivery_stats(queryset).iterator(chunk_size=500):
            yield [
                d.notation, d.issued_date, d.subject, d.signer.full_name, self.addressees_col(d), self.file_copy_col(d),
                d.copies, d.sent_on, d.acknowledged, register_notes(d),
            ]  # fmt: skip


def register_notes(dispatch: Dispatch) -> str:
    """Return the register's notes column: secrecy, recall, replacement."""
    notes = []
    if dispatch.secrecy:
        notes.append(dispatch.get_secrecy_display())
    if dispatch.status == "recalled":
        notes.append(_t("Recalled: %(reason)s") % {"reason": dispatch.recall_reason})
    if dispatch.replaces_id:
        notes.append(_t("Replaces %(notation)s") % {"notation": dispatch.replaces.notation})
    replacements = getattr(dispatch, "issued_replacements", None)
    replacement = replacements[0] if replacements else (None if replacements is not None else dispatch.replaced_by)
    if replacement:
        notes.append(_t("Replaced by %(notation)s") % {"notation": replacement.notation})
    return "; ".join(notes)


class RecipientKindFilter(admin.SimpleListFilter):
    title = _("recipient kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return Organization._meta.get_field("kind").choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(organization__in=Organization.objects.filter(kind=self.value()).values("pk"))
        return queryset


class DispatchFieldFilter(admin.SimpleListFilter):
    """Filter deliveries on a field of their dispatch through the small dispatch table (an indexed IN list)."""

    field = ""

    def lookups(self, request, model_admin):
        raise NotImplementedError

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        ids = Dispatch.objects.filter(**{self.field: self.value()}).order_by().values_list("pk", flat=True)
        return queryset.filter(dispatch_id__in=list(ids))


class UrgencyFilter(DispatchFieldFilter):
    title = _("urgency")
    parameter_name = "urgency"
    field = "urgency"

    def lookups(self, request, model_admin):
        return [(value or "normal", label) for value, label in Dispatch._meta.get_field("urgency").choices]

    def queryset(self, request, queryset):
        if self.value() == "normal":
            return queryset.filter(
                dispatch_id__in=list(Dispatch.objects.filter(urgency="").values_list("pk", flat=True))
            )
        return super().queryset(request, queryset)


class DraftingUnitFilter(DispatchFieldFilter):
    title = _("drafting unit")
    parameter_name = "unit"
    field = "drafting_unit_id"

    def lookups(self, request, model_admin):
        from notices.models import DraftingUnit

        return [(str(unit.pk), str(unit)) for unit in DraftingUnit.objects.all()]


@admin.register(SendRecord)
class SendRecordAdmin(ReadOnlyAdmin):
    """The send history: one row per delivery; open one for its timeline."""

    export_name = "lich-su-gui"
    list_display = [
        "address",
        "organization_name",
        "dispatch_col",
        "status",
        "queued_col",
        "sent_col",
        "acknowledged_col",
    ]
    list_filter = [
        ("created_at", admin.DateFieldListFilter),
        "status",
        RecipientKindFilter,
        DraftingUnitFilter,
        UrgencyFilter,
    ]
    list_select_related = ["dispatch__issuer", "dispatch__drafting_unit"]
    ordering = ["-id"]
    search_help_text = _("Number (e.g. 05/BHXH-QLT), subject, organisation, or an exact email address.")
    search_fields = ["address"]  # the real search is get_search_results
    fields = ["timeline"]
    readonly_fields = ["timeline"]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        organisation = path(
            "organisation/<int:organization_id>/",
            self.admin_site.admin_view(self.organisation_view),
            name="{}_{}_organisation".format(*info),
        )
        return [organisation, *super().get_urls()]

    def organisation_view(self, request, organization_id: int):
        """Show everything one organisation was sent (the send history filtered on it)."""
        url = (
            reverse("admin:notices_sendrecord_changelist")
            + "?"
            + urlencode({"organization__id__exact": organization_id})
        )
        return HttpResponseRedirect(url)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(address=term.lower()), False
        number = re.match(r"^0*(\d+)\s*(/|$)", term)
        if number:
            ids = Dispatch.objects.filter(number=int(number.group(1))).values_list("pk", flat=True)
            return queryset.filter(dispatch_id__in=list(ids)), False
        # Both small tables are searched first, so the million deliveries are only read through their indexes.
        dispatches = Dispatch.objects.filter(subject__icontains=term).order_by().values_list("pk", flat=True)
        organisations = Organization.objects.filter(Q(name__icontains=term) | Q(short_name__icontains=term))
        matched = Q(dispatch_id__in=list(dispatches[:1000])) | Q(
            organization_id__in=list(organisations.order_by().values_list("pk", flat=True)[:1000])
        )
        return queryset.filter(matched), False

    @admin.display(description=_("dispatch"), ordering="dispatch")
    def dispatch_col(self, delivery: Delivery) -> str:
        return delivery.dispatch.notation or str(delivery.dispatch)

    @admin.display(description=_("queued at"), ordering="created_at")
    def queued_col(self, delivery: Delivery) -> str:
        return short_time(delivery.created_at)

    @admin.display(description=_("sent at"), ordering="sent_at")
    def sent_col(self, delivery: Delivery) -> str:
        return short_time(delivery.sent_at)

    @admin.display(description=_("receipt acknowledged at"), ordering="acknowledged_at")
    def acknowledged_col(self, delivery: Delivery) -> str:
        return short_time(delivery.acknowledged_at)

    @admin.display(description=_("timeline"))
    def timeline(self, delivery: Delivery) -> str:
        context = {
            "delivery": delivery,
            "dispatch": delivery.dispatch,
            "events": delivery.events.order_by("at", "id"),
            "pdf_sha256": getattr(delivery, "pdf_sha256", "") or delivery.dispatch.pdf_sha256,
            "recall_notice": delivery.recall_notice(),
            "organisation_url": reverse("admin:notices_sendrecord_organisation", args=[delivery.organization_id])
            if delivery.organization_id
            else "",
        }
        return render_to_string("admin/notices/sendrecord/_timeline.html", context)

    def export_header(self) -> list[str]:
        return [
            _t("number / notation"), _t("subject"), _t("organisation"), _t("email address"), _t("status"),
            _t("queued at"), _t("sent at"), _t("receipt acknowledged at"), _t("provider message id"), _t("last error"),
        ]  # fmt: skip

    def export_rows(self, queryset):
        queryset = queryset.select_related("dispatch__issuer", "dispatch__drafting_unit")
        for d in queryset.iterator(chunk_size=2000):
            yield [
                d.dispatch.notation, d.dispatch.subject, d.organization_name, d.address, d.get_status_display(),
                d.created_at, d.sent_at, d.acknowledged_at, d.provider_message_id, d.last_error,
            ]  # fmt: skip


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    export_name = "nhat-ky-kiem-toan"
    list_display = ["seq", "at_col", "actor_name", "action", "object_type", "object_link", "ip"]
    list_filter = [("at", admin.DateFieldListFilter), "action", "object_type"]
    search_fields = ["=actor_name", "=object_id", "object_repr"]
    ordering = ["-seq"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description=_("time"), ordering="seq")
    def at_col(self, event: AuditEvent) -> str:
        return localtime(event.at).strftime("%d/%m/%Y %H:%M:%S")

    @admin.display(description=_("object"))
    def object_link(self, event: AuditEvent) -> str:
        if event.object_type == "notices.dispatch" and event.object_id:
            url = reverse("admin:notices_dispatch_change", args=[event.object_id])
            return format_html('<a href="{}">{}</a>', url, event.object_repr)
        return event.object_repr

    def export_header(self) -> list[str]:
        return ["seq", _t("time"), _t("actor"), _t("action"), _t("object type"), _t("object id"), _t("object"), "IP",
                _t("details"), _t("previous hash"), _t("hash")]  # fmt: skip

    def export_rows(self, queryset):
        for e in queryset.iterator(chunk_size=2000):
            yield [e.seq, e.at, e.actor_name, e.action, e.object_type, e.object_id, e.object_repr, e.ip,
                   e.details, e.prev_hash, e.hash]  # fmt: skip


@admin.register(RecallNotice)
class RecallNoticeAdmin(ReadOnlyAdmin):
    list_display = ["address", "dispatch", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["=address"]
    list_select_related = ["dispatch__issuer", "dispatch__drafting_unit"]
    readonly_fields = [f.name for f in RecallNotice._meta.fields]

    def export_header(self) -> list[str]:
        return [_t("dispatch"), _t("email address"), _t("status"), _t("sent at"), _t("last error")]

    def export_rows(self, queryset):
        for n in queryset.select_related("dispatch__issuer", "dispatch__drafting_unit").iterator(chunk_size=2000):
            yield [n.dispatch.notation, n.address, n.get_status_display(), n.sent_at, n.last_error]
