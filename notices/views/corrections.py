"""The public correction page (/sua-dia-chi/<token>/): an organisation's staff confirm or change the addresses
that receive our dispatches, without logging in.

The link's token is the credential; only that organisation's addresses are shown; the answer is spent once and
waits for a steward's approval (`notices.corrections`). Every request counts against the caller's address.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from notices import corrections
from notices.clients import client_ip
from recipients.addresses import validate_address
from recipients.corrections import CorrectionRequest

MAX_ADDRESSES = 5
TEMPLATE = "notices/corrections/answer.html"


class AnswerForm(forms.Form):
    contact_name = forms.CharField(label=_("Your name"), max_length=200)
    contact_phone = forms.CharField(label=_("Your phone"), max_length=50, required=False)
    primary = forms.TypedChoiceField(label=_("Primary address"), coerce=int,
                                     choices=[(i, str(i)) for i in range(1, MAX_ADDRESSES + 1)])  # fmt: skip
    note = forms.CharField(label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_ADDRESSES + 1):
            self.fields[f"address_{i}"] = forms.EmailField(label=_("Address %(n)s") % {"n": i}, max_length=254,
                                                           required=False, validators=[validate_address])  # fmt: skip

    def address_fields(self) -> list:
        return [self[f"address_{i}"] for i in range(1, MAX_ADDRESSES + 1)]

    def clean(self) -> dict:
        data = super().clean() or {}
        chosen = {i: (data.get(f"address_{i}") or "").strip().lower() for i in range(1, MAX_ADDRESSES + 1)}
        addresses = list(dict.fromkeys(a for a in chosen.values() if a))
        if not addresses:
            raise ValidationError(_("Give at least one address."))
        primary = chosen.get(data.get("primary") or 0, "")
        if not primary:
            raise ValidationError(_("The primary address must be one of the addresses you gave."))
        data["addresses"], data["primary_address"] = addresses, primary
        return data


def initial_for(answer: CorrectionRequest) -> dict:
    """Return the form filled with the organisation's current addresses, the primary one chosen."""
    emails = sorted(answer.item.organization.emails.all(), key=lambda e: (not e.primary, e.pk))[:MAX_ADDRESSES]
    return {"primary": 1, **{f"address_{i}": e.address for i, e in enumerate(emails, start=1)}}


def refusal(request: HttpRequest, answer: CorrectionRequest | None) -> HttpResponse | None:
    """Return the page for an unknown, spent or expired link, else None."""
    if answer is None:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    if answer.is_answered:
        return render(request, TEMPLATE, {"state": "used"}, status=410)
    if answer.is_expired:
        return render(request, TEMPLATE, {"state": "expired"}, status=410)
    return None


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def correction(request: HttpRequest, token: str) -> HttpResponse:
    """Show the organisation's addresses in a form (GET), or record its answer once (POST)."""
    if corrections.rate_limited(client_ip(request) or "unknown"):
        return render(request, TEMPLATE, {"state": "limited"}, status=429)
    answer = CorrectionRequest.objects.of_token(token)
    if refused := refusal(request, answer):
        return refused
    assert answer is not None
    form = AnswerForm(request.POST or None, initial=initial_for(answer))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not corrections.answer(answer, data["addresses"], data["primary_address"], data["contact_name"],
                                  data["contact_phone"], data["note"]):  # fmt: skip
            return render(request, TEMPLATE, {"state": "used"}, status=410)
        return render(request, TEMPLATE, {"state": "thanks", "organization": answer.item.organization})
    context = {"state": "form", "form": form, "organization": answer.item.organization,
               "current": answer.item.organization.emails.order_by("-primary", "address"), "answer": answer}  # fmt: skip
    return render(request, TEMPLATE, context, status=400 if form.errors else 200)
