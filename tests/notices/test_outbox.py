"""The outbox email backend (notices/outbox.py): one .eml file per delivery."""

from __future__ import annotations

import base64

import pytest

from notices import sendloop
from tests.notices.delivery_fixtures import PDF, ids_of


@pytest.mark.django_db
def test_the_outbox_backend_writes_one_eml_per_delivery_with_its_message_id(issue_to, settings, tmp_path):
    settings.EMAIL_DELIVERY = "outbox"
    dispatch = issue_to(2)
    sendloop.send_batch(ids_of(dispatch))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    ids = {d.provider_message_id for d in dispatch.deliveries.all()}
    assert {f"congvan.{dispatch.pk}.{pk}@bhxh.example.vn" for pk in ids_of(dispatch)} == ids
    assert all(base64.b64encode(PDF)[:20] in f.read_bytes() for f in files)
