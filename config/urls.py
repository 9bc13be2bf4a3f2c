from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn

from config.health import WEB_CHECKS, HealthView
from notices import acknowledgement
from notices.views import corrections, dashboard, second_factor
from notices.views.metrics import metrics

# django-otp-webauthn's endpoints, under its namespace, with our passkey check (the second step: stamps the
# session for the step-up, counts failures for django-axes).
passkey_urls = [
    path("registration/begin/", webauthn.BeginCredentialRegistrationView.as_view(),
         name="credential-registration-begin"),
    path("registration/complete/", webauthn.CompleteCredentialRegistrationView.as_view(),
         name="credential-registration-complete"),
    path("authentication/begin/", webauthn.BeginCredentialAuthenticationView.as_view(),
         name="credential-authentication-begin"),
    path("authentication/complete/", second_factor.PasskeyAuthentication.as_view(),
         name="credential-authentication-complete"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]  # fmt: skip

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/tong-quan/", dashboard.overview, name="dashboard"),
    path("admin/tong-quan/cong-van/<int:pk>/bieu-do.svg", dashboard.dispatch_chart, name="dispatch_chart"),
    path("admin/xac-thuc-hai-buoc/", second_factor.second_step, name="second_factor"),
    path("admin/xac-thuc-hai-buoc/thiet-bi/", second_factor.devices, name="second_factor_devices"),
    path("webauthn/", include((passkey_urls, "otp_webauthn"))),
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
