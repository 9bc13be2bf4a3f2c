from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.health import WEB_CHECKS, HealthView
from notices import acknowledgement
from notices.views import corrections, dashboard
from notices.views.metrics import metrics

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/tong-quan/", dashboard.overview, name="dashboard"),
    path("admin/tong-quan/cong-van/<int:pk>/bieu-do.svg", dashboard.dispatch_chart, name="dispatch_chart"),
    path("admin/", admin.site.urls),  # the AuditedAdminSite (notices.apps.AuditedAdminConfig.default_site)
    path("anymail/", include("notices.webhook_urls")),  # anymail's, replay-safe and 400 on bad bodies
    path("xac-thuc/", include("notices.urls")),
    path("tep/", include("notices.file_urls")),  # stored files, for staff only: the media folder is never served
    path("xac-nhan/<str:token>/", acknowledgement.acknowledge, name="acknowledge"),
    path("healthz", HealthView.as_view(), name="healthz"),  # for monitoring: no login, nothing secret shown
    path("healthz/web", HealthView.as_view(checks=WEB_CHECKS), name="healthz-web"),  # for the web load balancer
    path("metrics", metrics, name="metrics"),  # for Prometheus: a bearer token (METRICS_TOKEN), else 404 or 403
    path("api/v1/", include("api.urls")),  # for client systems: API keys (api/), schema and docs
    path("sua-dia-chi/<str:token>/", corrections.correction, name="correction"),
]
