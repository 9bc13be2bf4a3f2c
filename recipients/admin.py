from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from recipients.models import Organization, OrganizationEmail, RecipientGroup, Suppression


class OrganizationEmailInline(admin.TabularInline):
    model = OrganizationEmail
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "level", "area", "active", "valid_from", "valid_to"]
    list_filter = ["kind", "level", "area", "active"]
    search_fields = ["name", "short_name", "agency_code", "bhxh_code", "tax_code", "emails__address"]
    inlines = [OrganizationEmailInline]
    show_full_result_count = False


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "member_count"]
    search_fields = ["name", "label"]
    autocomplete_fields = ["members"]

    @admin.display(description=_("members"))
    def member_count(self, group: RecipientGroup) -> int:
        return group.members.count()


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "source", "created_at", "lifted_at"]
    list_filter = ["reason"]
    search_fields = ["address"]
