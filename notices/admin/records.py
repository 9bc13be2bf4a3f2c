"""The base of every list auditors read: read-only, exactly counted, every page reachable, exportable and audited."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.timezone import localtime

from notices import audit, exports
from notices.admin.paging import ExactChangeList, KeysFirstPaginator
from notices.admin.readonly import ReadOnlyMixin
from notices.models.search import folded_filter
from notices.models.workflow import has_role_permission


def short_time(value) -> str:
    """Return "26/11/2026 14:05" in Hà Nội time ("—" for none); a plain strftime is cheap on long lists."""
    return localtime(value).strftime("%d/%m/%Y %H:%M") if value else "—"


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A list nobody changes from the admin, exportable by the roles that hold `export_records`."""

    paginator = KeysFirstPaginator
    show_full_result_count = False  # the filtered count is exact; a second, unfiltered count would add nothing
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice would read a million rows each time
    list_per_page = 50
    change_list_template = "admin/notices/export_change_list.html"
    export_name = "export"

    def get_changelist(self, request, **kwargs):
        return ExactChangeList

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


class FoldedSearchMixin:
    """Search the stored folded `folded_search_fields` with the folded term: "ba dinh" finds "Ba Đình"."""

    folded_search_fields: list[str] = []

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(folded_filter(self.folded_search_fields, search_term)), False
