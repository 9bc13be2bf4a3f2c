from __future__ import annotations

from django.contrib import admin

from notices.models import DayOff, DraftingUnit, Issuer, Signer


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    list_display = ["name", "abbreviation", "place", "valid_from", "valid_to"]


@admin.register(DraftingUnit)
class DraftingUnitAdmin(admin.ModelAdmin):
    list_display = ["abbreviation", "name", "issuer", "reply_to"]
    search_fields = ["abbreviation", "name"]


@admin.register(Signer)
class SignerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "authority", "position", "active"]
    list_filter = ["active"]


@admin.register(DayOff)
class DayOffAdmin(admin.ModelAdmin):
    """The agency's days off and make-up working days, on top of Vietnam's public holidays."""

    list_display = ["day", "kind", "description"]
    list_filter = ["kind"]
    date_hierarchy = "day"
