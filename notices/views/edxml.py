"""Hand out a dispatch's edXML package (QCVN 102:2016) to logged-in staff whose role may see its files; audit it.

The same rule as the stored files (`files.may_see_files`); a dispatch that cannot be exported (a secret one, one
not yet issued, an issuer without an agency code) sends the user back to the dispatch page with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache

from notices import audit, edxml
from notices.models import Dispatch
from notices.views.files import may_see_files


@never_cache
@login_required(login_url=reverse_lazy("admin:login"))
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the signed edXML package of an issued dispatch (its revoke variant once recalled)."""
    related = ("issuer", "drafting_unit", "signer", "issued_by", "replaces__issuer", "replaces__drafting_unit")
    dispatch = get_object_or_404(Dispatch.objects.select_related(*related), pk=pk)
    if not may_see_files(request.user, dispatch):
        audit.record(request.user, "download:refused", dispatch, {"file": "edxml"})
        raise PermissionDenied
    try:
        package = edxml.package_for(dispatch)
    except edxml.EdxmlRefused as exc:
        audit.record(request.user, "download:refused", dispatch, {"file": "edxml", "reason": str(exc)})
        messages.error(request, str(exc))
        return redirect("admin:notices_dispatch_change", pk)
    name = edxml.file_name(dispatch)
    audit.record(request.user, "download", dispatch, {"file": "edxml", "name": name})
    response = HttpResponse(package, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
