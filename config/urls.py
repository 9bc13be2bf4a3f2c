from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from notices import acknowledgement

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),  # the AuditedAdminSite (notices.apps.AuditedAdminConfig.default_site)
    path("anymail/", include("anymail.urls")),
    path("xac-thuc/", include("notices.urls")),
    path("xac-nhan/<str:token>/", acknowledgement.acknowledge, name="acknowledge"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
