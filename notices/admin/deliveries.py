"""The one delivery screen: every email to every address, searchable, filterable, exportable, with its timeline.

Auditors and operators read the same list (one row per delivery). Its queries go through the small tables
first (dispatches, organisations), so the million deliveries are only read through their indexes.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from notices.admin import labels
from notices.admin.records import ReadOnlyAdmin, short_time
from notices.models import Delivery, Dispatch, DraftingUnit, SendRecord, Urgency
from notices.models.search import folded_filter
from recipients.models import Organization


def deliveries_url(**filters) -> str:
    """Return the delivery list filtered on `filters` (e.g. dispatch__id__exact=5)."""
    return reverse("admin:notices_sendrecord_changelist") + "?" + urlencode(filters)


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

    def dispatch_filter(self) -> Q:
        return Q(**{self.field: self.value()})

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        ids = Dispatch.objects.filter(self.dispatch_filter()).order_by().values_list("pk", flat=True)
        return queryset.filter(dispatch_id__in=list(ids))


class UrgencyFilter(DispatchFieldFilter):
    title = _("urgency")
    parameter_name = "urgency"
    field = "urgency"

    def lookups(self, request, model_admin):
        return [(value or "normal", label) for value, label in Urgency.choices]

    def dispatch_filter(self) -> Q:
        return Q(urgency="") if self.value() == "normal" else super().dispatch_filter()


class DraftingUnitFilter(DispatchFieldFilter):
    title = _("drafting unit")
    parameter_name = "unit"
    field = "drafting_unit_id"

    def lookups(self, request, model_admin):
        return [(str(unit.pk), str(unit)) for unit in DraftingUnit.objects.all()]


@admin.register(SendRecord)
class SendRecordAdmin(ReadOnlyAdmin):
    """The send history: one row per delivery; open one for its timeline and its stored fields."""

    export_name = "lich-su-gui"
    list_display = [
        "address", "organization_name", "dispatch_col", "kind", "status", "attempts", "queued_col", "sent_col",
        "acknowledged_col",
    ]  # fmt: skip
    list_filter = [
        ("created_at", admin.DateFieldListFilter), "kind", "status", RecipientKindFilter, DraftingUnitFilter, UrgencyFilter,
    ]  # fmt: skip
    list_select_related = ["dispatch__issuer", "dispatch__drafting_unit"]
    ordering = ["-id"]  # index-backed; ordering by dispatch would sort every row
    search_help_text = _("Number (e.g. 05/BHXH-QLT), subject, organisation, or an exact email address.")
    search_fields = ["address"]  # the real search is get_search_results
    # The stored columns as they are, the dispatch by its notation (its foreign key has no translated name).
    stored_fields = ["dispatch_col" if f.name == "dispatch" else f.name for f in Delivery._meta.fields]
    readonly_fields = ["timeline", *stored_fields]
    fieldsets = [
        (None, {"fields": ["timeline"]}),
        (_("Stored record"), {"fields": tuple(stored_fields), "classes": ["collapse"]}),
    ]

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
        return HttpResponseRedirect(deliveries_url(organization__id__exact=organization_id))

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
        # The small tables first (subjects, today's names), then the names as the deliveries keep them (as at
        # issue, before any renaming), all stored folded: indexes answer it all, even at a million deliveries.
        dispatches = Dispatch.objects.filter(folded_filter(["search_subject"], term)).order_by()
        organisations = Organization.objects.filter(folded_filter(["search_name"], term)).order_by()
        matched = Q(dispatch_id__in=list(dispatches.values_list("pk", flat=True)[:1000])) | Q(
            organization_id__in=list(organisations.values_list("pk", flat=True)[:1000])
        )
        return queryset.filter(matched | folded_filter(["search_name"], term)), False

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
        events = list(delivery.events.order_by("at", "id"))
        types = {event.type for event in events}
        organisation = delivery.organization_id
        context = {
            "delivery": delivery,
            "dispatch": delivery.dispatch,
            "events": [(event, labels.event_label(event.type)) for event in events],
            # Rows from the delivery's own columns, for what no event recorded (older rows, tests' fixtures).
            "queued_row": "queued" not in types,
            "sent_row": delivery.sent_at is not None and not types & {"sent", "delivered"},
            "acknowledged_row": delivery.acknowledged_at is not None and "acknowledged" not in types,
            "pdf_sha256": received_pdf_sha256(delivery),
            "recall_notice": delivery.recall_notice(),
            "organisation_url": reverse("admin:notices_sendrecord_organisation", args=[organisation])
            if organisation
            else "",
        }
        return render_to_string("admin/notices/sendrecord/_timeline.html", context)

    def export_header(self) -> list[str]:
        return [
            _t("number / notation"), _t("subject"), _t("organisation"), _t("email address"), _t("kind"), _t("status"),
            _t("queued at"), _t("sent at"), _t("receipt acknowledged at"), _t("provider message id"),
            _t("SHA-256 of the PDF received"), _t("attempts"), _t("last error"),
        ]  # fmt: skip

    def export_rows(self, queryset):
        queryset = queryset.select_related("dispatch__issuer", "dispatch__drafting_unit").defer("dispatch__body")
        for d in queryset.iterator(chunk_size=2000):
            yield [
                d.dispatch.notation, d.dispatch.subject, d.organization_name, d.address, d.get_kind_display(),
                d.get_status_display(),
                d.created_at, d.sent_at, d.acknowledged_at, d.provider_message_id, received_pdf_sha256(d),
                d.attempts, d.last_error,
            ]  # fmt: skip


def received_pdf_sha256(delivery: Delivery) -> str:
    """Return the SHA-256 of the PDF this recipient was sent: its own when personalised, else the dispatch's.

    Nothing is sent before issue, so an unsent delivery still shows the hash of the PDF it is queued with.
    """
    return getattr(delivery, "pdf_sha256", "") or delivery.dispatch.pdf_sha256
