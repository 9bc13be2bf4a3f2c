"""/api/v1/: the endpoints, the OpenAPI schema (JSON) and its Swagger UI page, served from our own static files."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from api import views

public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**public), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", **public), name="api-docs"),
    path("drafts/", views.Drafts.as_view(), name="api-drafts"),
    path("drafts/<int:pk>/", views.Draft.as_view(), name="api-draft"),
    path("drafts/<int:pk>/submit/", views.Submit.as_view(), name="api-submit"),
    path("dispatches/<int:pk>/", views.DispatchDetail.as_view(), name="api-dispatch"),
    path("dispatches/<int:pk>/approve/", views.Approve.as_view(), name="api-approve"),
    path("dispatches/<int:pk>/issue/", views.Issue.as_view(), name="api-issue"),
    path("dispatches/<int:pk>/deliveries/", views.Deliveries.as_view(), name="api-deliveries"),
    path("dispatches/<int:pk>/acknowledgements/", views.Acknowledgements.as_view(), name="api-acknowledgements"),
    path("dispatches/<int:pk>/pdf/", views.Pdf.as_view(), name="api-pdf"),
    path("dispatches/<int:pk>/copies/<str:code>/pdf/", views.CopyPdf.as_view(), name="api-copy"),
    path("dispatches/<int:pk>/edxml/", views.Edxml.as_view(), name="api-edxml"),
    path("callback/", views.CallbackUrl.as_view(), name="api-callback"),
    path("organizations/bulk/", views.OrganizationsBulk.as_view(), name="api-organizations-bulk"),
    path("organizations/<str:code>/", views.OrganizationDetail.as_view(), name="api-organization"),
    re_path(r"", views.not_found, name="api-not-found"),  # any other /api/v1/ path: a JSON 404, not an HTML page
]
