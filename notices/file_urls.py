"""Downloads of stored files, for logged-in staff only (see notices/views/files.py)."""

from __future__ import annotations

from django.urls import path

from notices.views import edxml, files

app_name = "files"

urlpatterns = [
    path("cong-van/<int:pk>/pdf/", files.dispatch_pdf, name="dispatch_pdf"),
    path("cong-van/<int:pk>/edxml/", edxml.download, name="dispatch_edxml"),
    path("phu-luc/<int:pk>/", files.appendix, name="appendix"),
    path("cong-van/<int:pk>/du-lieu-tron/", files.merge_file, name="merge_file"),
    path("ban-gui/<int:pk>/", files.dispatch_copy, name="dispatch_copy"),
]
