"""The communications lead's dashboard (/admin/tong-quan/) and a dispatch's small chart, for staff with the
dashboard permission (the chart also for anyone who may view the dispatch)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from notices import dashboard
from notices.models import Dispatch


@never_cache
@admin.site.admin_view
def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("notices.view_dashboard"):
        raise PermissionDenied
    figures = dashboard.overview()
    figures["rates_chart"], figures["bounce_chart"] = map(mark_safe, (figures["rates_chart"], figures["bounce_chart"]))  # noqa: S308 - escaped by notices.charts
    context = {**admin.site.each_context(request), **figures, "title": _("Communications dashboard")}
    return TemplateResponse(request, "admin/notices/dashboard.html", context)


@never_cache
@admin.site.admin_view
def dispatch_chart(request: HttpRequest, pk: int) -> HttpResponse:
    dispatch = get_object_or_404(Dispatch, pk=pk)
    if not (request.user.has_perm("notices.view_dashboard") or request.user.has_perm("notices.view_dispatch")):
        raise PermissionDenied
    return HttpResponse(dashboard.dispatch_chart(dispatch), content_type="image/svg+xml; charset=utf-8")
