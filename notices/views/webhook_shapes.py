"""What each provider's webhook body must look like before anymail's parser reads it.

anymail's parsers index the provider's JSON directly, so a JSON list where an object belongs, a string, or a
missing field ends as a TypeError or KeyError deep inside them, and a missing field often as an event silently
ignored. Each webhook URL here names the shape its body must have (only what the parser needs); a body of another
shape is refused with a message that says where it differs ("$.events[0] lacks the field(s) message_id").
Mailgun's and SendGrid's inbound URLs take form posts and are checked by their own views.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.translation import gettext as _


class MalformedBody(ValueError):
    """A webhook body that is not JSON, or not of the shape its provider sends."""


@dataclass(frozen=True)
class Obj:
    """A JSON object with these fields, and these fields of these shapes."""

    fields: tuple[str, ...] = ()
    nested: Mapping[str, Shape] = field(default_factory=dict)


@dataclass(frozen=True)
class Seq:
    """A non-empty JSON list of items of one shape."""

    item: Shape


@dataclass(frozen=True)
class Either:
    """One of several shapes (a provider that sends one event alone or a batch of them)."""

    choices: tuple[Shape, ...]


Shape = Obj | Seq | Either

BREVO = Obj(("event", "email"))
MAILJET = Obj(("event", "time", "MessageID"))
SHAPES: dict[str, tuple[str | None, Shape]] = {  # URL name: (form field holding the JSON, or None: the body; shape)
    "amazon_ses_tracking_webhook": (None, Obj(("Type", "MessageId"))),
    "amazon_ses_inbound_webhook": (None, Obj(("Type", "MessageId"))),
    "brevo_tracking_webhook": (None, BREVO),
    "sendinblue_tracking_webhook": (None, BREVO),
    "brevo_inbound_webhook": (None, Obj(nested={"items": Seq(Obj(("Uuid",)))})),
    "mailersend_tracking_webhook": (None, Obj(("type",), {"data": Obj(("id",))})),
    "mailersend_inbound_webhook": (None, Obj(("type",), {"data": Obj(("id", "raw"))})),
    "mailjet_tracking_webhook": (None, Either((MAILJET, Seq(MAILJET)))),
    "mailjet_inbound_webhook": (None, Obj(("Sender", "Recipient"))),
    "mailtrap_tracking_webhook": (None, Obj(nested={"events": Seq(Obj(("event", "message_id", "timestamp")))})),
    "mailtrap_inbound_webhook": (None, Obj(nested={"events": Seq(Obj(("event", "message_id")))})),
    "postal_tracking_webhook": (None, Obj(("event",), {"payload": Obj()})),
    "postal_inbound_webhook": (None, Obj(("message",))),
    "postmark_tracking_webhook": (None, Obj(("RecordType", "MessageID"))),
    "postmark_inbound_webhook": (None, Obj(("From",))),
    "resend_tracking_webhook": (None, Obj(("type", "created_at"), {"data": Obj(("email_id",))})),
    "resend_inbound_webhook": (None, Obj(("type", "created_at"), {"data": Obj(("email_id",))})),
    "sendgrid_tracking_webhook": (None, Seq(Obj(("event", "email", "timestamp", "sg_event_id")))),
    "sparkpost_tracking_webhook": (None, Seq(Obj(nested={"msys": Obj()}))),  # {"msys": {}} is SparkPost's ping
    "sparkpost_inbound_webhook": (None, Seq(Obj(nested={"msys": Obj()}))),
    "unisender_go_tracking_webhook": (
        None,
        Either(
            (
                Obj(("auth",), {"events_by_user": Seq(Obj(nested={"events": Seq(Obj(("event_name", "event_data")))}))}),
                Obj(("auth", "event_name")),
            )
        ),
    ),  # fmt: skip
    "mandrill_webhook": ("mandrill_events", Seq(Obj())),  # "event", or "type" for sync events
    "mandrill_tracking_webhook": ("mandrill_events", Seq(Obj())),
}


def check(shape: Shape, value: object, where: str = "$") -> None:
    """Raise MalformedBody unless `value` has the shape; `where` is its JSON path, for the message."""
    if isinstance(shape, Either):
        problems = []
        for choice in shape.choices:
            try:
                return check(choice, value, where)
            except MalformedBody as exc:
                problems.append(str(exc))
        raise MalformedBody(_("%(where)s is none of the accepted shapes: %(problems)s")
                            % {"where": where, "problems": "; ".join(problems)})  # fmt: skip
    if isinstance(shape, Seq):
        if not isinstance(value, list) or not value:
            raise MalformedBody(_("%(where)s must be a non-empty JSON list") % {"where": where})
        for index, item in enumerate(value):
            check(shape.item, item, f"{where}[{index}]")
        return None
    if not isinstance(value, dict):
        raise MalformedBody(_("%(where)s must be a JSON object") % {"where": where})
    missing = [name for name in (*shape.fields, *shape.nested) if name not in value]
    if missing:
        raise MalformedBody(
            _("%(where)s lacks the field(s) %(fields)s") % {"where": where, "fields": ", ".join(missing)}
        )
    for name, inner in shape.nested.items():
        check(inner, value[name], f"{where}.{name}")
    return None


def check_body(url_name: str, request: HttpRequest) -> None:
    """Raise MalformedBody unless the webhook call to `url_name` carries JSON of its provider's shape.

    Nothing is read from a call to another URL: a multipart inbound post stays streamed to its files.
    """
    if url_name not in SHAPES:
        return
    source, shape = SHAPES[url_name]
    raw = request.body if source is None else request.POST.get(source, "")
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBody(_("The webhook body is not valid JSON.")) from exc
    check(shape, value)
