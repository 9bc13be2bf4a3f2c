from __future__ import annotations

from django.contrib import admin

from notices.models import DraftingUnit, Issuer, Signer


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    list_display = ["name", "abbreviation", "place", "valid_from", "valid_to"]


@admin.register(DraftingUnit)
class DraftingUnitAdmin(admin.ModelAdmin):
    list_display = ["abbreviation", "name", "issuer"]
    search_fields = ["abbreviation", "name"]


@admin.register(Signer)
class SignerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "authority", "position", "active"]
    list_filter = ["active"]
