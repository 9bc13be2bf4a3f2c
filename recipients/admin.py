from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.second_factor import require_recent_second_factor
from recipients.folding import fold
from recipients.import_admin import DirectoryImportAdminMixin
from recipients.models import Organization, OrganizationEmail, RecipientGroup, Suppression, SuppressionReason


class OrganizationEmailInline(admin.TabularInline):
    model = OrganizationEmail
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(DirectoryImportAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "level", "area", "tags", "active", "valid_from", "valid_to"]
    list_filter = ["kind", "level", "area", "active"]
    # search_name is the folded name: the search term is folded too, so "ba dinh" finds "Ba Đình".
    search_fields = ["search_name__contains", "short_name", "agency_code", "bhxh_code", "tax_code", "tags",
                     "emails__address"]  # fmt: skip
    inlines = [OrganizationEmailInline]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        """Search accent-insensitively; the autocomplete lists the exact name first, then names starting with it."""
        folded = fold(search_term)
        queryset, may_have_duplicates = super().get_search_results(request, queryset, folded)
        return (queryset.ranked_for(folded) if folded.strip() else queryset), may_have_duplicates


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "rule_display", "member_count", "reachable_today"]
    search_fields = ["name", "label"]
    autocomplete_fields = ["members"]
    fieldsets = [
        (None, {"fields": ["name", "label", "description"]}),
        (gettext_lazy("Static members"), {"fields": ["members"]}),
        (
            gettext_lazy("Rule"),
            {
                "fields": ["rule_kind", "rule_level", "rule_area", "rule_tag"],
                "description": gettext_lazy(
                    "Organisations matching every criterion set are included, in addition to the static members. "
                    "The rule is evaluated when a dispatch is issued: bodies not valid that day are left out."
                ),
            },
        ),
    ]

    @admin.display(description=gettext_lazy("rule"))
    def rule_display(self, group: RecipientGroup) -> str:
        return ", ".join(f"{key}={value}" for key, value in group.rule().items()) or "—"

    @admin.display(description=gettext_lazy("static members"))
    def member_count(self, group: RecipientGroup) -> int:
        return group.members.count()

    @admin.display(description=gettext_lazy("reachable today"))
    def reachable_today(self, group: RecipientGroup) -> int:
        return group.organizations(timezone.localdate()).count()


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why may these addresses receive dispatches again?"), widget=forms.Textarea, max_length=2000
    )


class SuppressionStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", gettext_lazy("Suppressed")), ("lifted", gettext_lazy("Lifted"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "source", "created_at", "lifted_at", "lifted_by"]
    list_filter = [SuppressionStatusFilter, "reason"]
    search_fields = ["address", "source"]
    date_hierarchy = "created_at"
    actions = ["lift_suppressions"]
    readonly_fields = ["created_at", "lifted_at", "lifted_by", "lifted_reason"]

    def get_changeform_initial_data(self, request):
        return {"reason": SuppressionReason.MANUAL, "source": request.user.get_username()}

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a suppression is a record: lift it, never edit it
            return ["address", "reason", "source", "detail", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Lift the selected suppressions (with a reason)"), permissions=["change"])
    @require_recent_second_factor
    def lift_suppressions(self, request, queryset):
        """Ask for a reason, then lift the selected active suppressions, recording who and why."""
        active = queryset.active()
        form = LiftForm(request.POST if "lift" in request.POST else None)
        if form.is_valid():
            for suppression in active:
                suppression.lift(request.user, form.cleaned_data["reason"])
            messages.success(request, _("%(count)d suppressions lifted.") % {"count": len(active)})
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Lift suppressions"),
            "suppressions": active,
            "form": form,
        }
        return TemplateResponse(request, "admin/recipients/suppression/lift.html", context)
