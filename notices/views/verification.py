"""The public verification page (/xac-thuc/): anyone can check a dispatch they received, without logging in."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from notices import verification
from notices.clients import client_ip

MAX_UPLOAD_BYTES = 30 * 1024 * 1024


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Verification code"), max_length=64, strip=True)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("The PDF you received"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 30 MB; it cannot be the dispatch."))
        return upload


def caller(request: HttpRequest) -> str:
    """Return the address whose unknown-code look-ups are counted."""
    return client_ip(request) or "unknown"


def too_many(request: HttpRequest) -> HttpResponse | None:
    """Return a 429 page when the caller has looked up too many unknown codes, else None."""
    if verification.rate_limited(caller(request)):
        return render(request, "notices/verification/limited.html", status=429)
    return None


def look_up(request: HttpRequest, code: str) -> verification.Found | None:
    """Return the dispatch (or the copy) of a code, counting a miss against the caller's address."""
    found = verification.find(code)
    if found is None:
        verification.count_failure(caller(request))
    return found


@never_cache
@csrf_protect
def search(request: HttpRequest) -> HttpResponse:
    """Show the form where a receiver types the short code printed beside the QR code."""
    form = CodeForm(request.GET or None)
    if form.is_valid():
        if limited := too_many(request):
            return limited
        found = look_up(request, form.cleaned_data["code"])
        if found is not None:
            return redirect("verification:detail", code=found.code)
        form.add_error("code", _("No dispatch of ours carries this code. The document may be forged."))
    return render(request, "notices/verification/search.html", {"form": form})


@never_cache
@csrf_protect
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """Show what a dispatch is and check an uploaded copy against it.

    It never says who received a dispatch; a copy's own code shows which organisation that copy was made for
    (and only that copy: its hash, its short code).
    """
    if limited := too_many(request):
        return limited
    found = look_up(request, code)
    if found is None:
        return render(request, "notices/verification/search.html", {"form": CodeForm(), "unknown": True}, status=404)
    dispatch, copy = found.dispatch, found.copy
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = verification.check_upload(dispatch, form.cleaned_data["file"].read(), copy)
    context = {
        "dispatch": dispatch,
        "copy": copy,
        "short_code": copy.short_code if copy else dispatch.short_code,
        "pdf_sha256": copy.pdf_sha256 if copy else dispatch.pdf_sha256,
        "validity": verification.validity(dispatch),
        "replacement": verification.replacement_of(dispatch),
        "replaces": verification.replaced_dispatch(dispatch),
        "form": form,
        "result": result,
    }
    return render(request, "notices/verification/detail.html", context)
