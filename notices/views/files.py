"""Hand out stored files (dispatch PDFs, appendices, the copies of personalised dispatches) to logged-in staff whose role may see them; audit each one.

The media folder is never served: these views are the only way to a stored file. A secret dispatch's files go
only to the roles that keep secret documents (the records office and the administrators) and to the people who
drafted, approved or issued it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache

from notices import audit, roles
from notices.models import Appendix, Dispatch, DispatchCopy, MergeFile

SECRET_FILE_ROLES = {roles.CLERK, roles.ADMINISTRATOR}
# The merge data is personal and financial: only the roles that work on a dispatch (not the auditors, who read
# the signed copies the organisations received) and the people who drafted, approved or issued it.
MERGE_DATA_ROLES = {roles.DRAFTER, roles.APPROVER, roles.CLERK, roles.ADMINISTRATOR}


def may_see_files(user, dispatch: Dispatch) -> bool:
    """Return whether the user may open the files of this dispatch."""
    if not (user.is_active and user.is_staff and user.has_perm("notices.view_dispatch")):
        return False
    if not dispatch.is_secret or user.is_superuser:
        return True
    people = {dispatch.created_by_id, dispatch.approved_by_id, dispatch.issued_by_id}
    return user.pk in people or user.groups.filter(name__in=SECRET_FILE_ROLES).exists()


def may_see_merge_data(user, dispatch: Dispatch) -> bool:
    """Return whether the user may see a personalised dispatch's merge data (its file, report and previews)."""
    if not may_see_files(user, dispatch):
        return False
    people = {dispatch.created_by_id, dispatch.approved_by_id, dispatch.issued_by_id}
    return user.is_superuser or user.pk in people or user.groups.filter(name__in=MERGE_DATA_ROLES).exists()


def send_file(request: HttpRequest, dispatch: Dispatch, field_file, filename: str, what: str,
              allowed=may_see_files, content_type: str = "application/pdf") -> FileResponse:  # fmt: skip
    """Return the stored file as a download after checking the user's right to it and auditing the download."""
    if not allowed(request.user, dispatch):
        audit.record(request.user, "download:refused", dispatch, {"file": what})
        raise PermissionDenied
    if not field_file:
        raise Http404
    audit.record(request.user, "download", dispatch, {"file": what, "name": filename})
    response = FileResponse(field_file.open("rb"), content_type=content_type, filename=filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required(login_url=reverse_lazy("admin:login"))
def dispatch_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """Return the issued, signed PDF of a dispatch."""
    dispatch = get_object_or_404(Dispatch.objects.select_related("issuer", "drafting_unit"), pk=pk)
    name = f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}.pdf"
    return send_file(request, dispatch, dispatch.pdf, name if dispatch.number else f"du-thao-{pk}.pdf", "pdf")


@never_cache
@login_required(login_url=reverse_lazy("admin:login"))
def appendix(request: HttpRequest, pk: int) -> FileResponse:
    """Return one appendix PDF of a dispatch."""
    item = get_object_or_404(Appendix.objects.select_related("dispatch__issuer", "dispatch__drafting_unit"), pk=pk)
    return send_file(request, item.dispatch, item.file, item.attachment_name(), f"appendix:{item.position}")


@never_cache
@login_required(login_url=reverse_lazy("admin:login"))
def merge_file(request: HttpRequest, pk: int) -> FileResponse:
    """Return the merge data file of a personalised dispatch, as uploaded (until its retention ends)."""
    item = get_object_or_404(MergeFile.objects.select_related("dispatch"), dispatch_id=pk)
    return send_file(request, item.dispatch, item.file, item.original_name, "merge_data",
                     allowed=may_see_merge_data, content_type="application/octet-stream")  # fmt: skip


@never_cache
@login_required(login_url=reverse_lazy("admin:login"))
def dispatch_copy(request: HttpRequest, pk: int) -> FileResponse:
    """Return one organisation's signed copy of a personalised dispatch: exactly what it received."""
    item = get_object_or_404(DispatchCopy.objects.select_related("dispatch__issuer", "dispatch__drafting_unit"), pk=pk)
    return send_file(request, item.dispatch, item.pdf, item.attachment_name(), f"copy:{item.organization_id}")
