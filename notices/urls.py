from __future__ import annotations

from django.urls import path

from notices.views import verification

app_name = "verification"

urlpatterns = [
    path("", verification.search, name="search"),
    path("<str:code>/", verification.detail, name="detail"),
]
