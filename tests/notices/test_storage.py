"""Where files are stored (notices/storage.py): under fresh random names that say nothing about the file, on the
local disk or in a private S3-compatible bucket (config/object_storage.py)."""

from __future__ import annotations

import hashlib
import re

import requests
from django.urls import reverse

from notices import issuing, storage
from notices.models import Delivery, DispatchCopy, MergeFile
from tests.conftest import approve, make_group, wait_until
from tests.notices.conftest import appendix
from tests.notices.delivery_fixtures import settled
from tests.notices.test_copies import personalised
from tests.s3_server import S3Server


def test_each_name_is_32_random_url_safe_characters_and_the_suffix():
    names = {storage.random_name() for _ in range(1000)}
    assert len(names) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}\.pdf", name) for name in names)
    assert storage.random_name(".xlsx").endswith(".xlsx")


def test_an_appendix_is_stored_under_its_year_and_never_under_its_upload_name():
    name = storage.appendix_name(None, "bang-ke-no-cong-ty-A.pdf")
    assert re.fullmatch(r"appendices/\d{4}/[A-Za-z0-9_-]{32}\.pdf", name) and "cong-ty" not in name


# --- Stored in an S3-compatible bucket (config/object_storage.py), against moto's server in a child process ------


def attachments(message) -> list[bytes]:
    """Return the PDF attachments of a received message, in order."""
    return [part.get_content() for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_private(s3: S3Server, key: str) -> None:
    """Check that the object exists but an unsigned request (anyone on the network) is refused it."""
    assert s3.read(key)  # the application's signed client reads it
    anonymous = requests.get(f"{s3.endpoint_url}/{s3.bucket}/{key}", timeout=10)
    assert anonymous.status_code == 403, f"{key} is readable without credentials"


def assert_download(client, url: str, data: bytes, allowed, refused) -> None:
    """Check that the download view hands the stored bytes to an allowed user and refuses another."""
    client.force_login(refused)
    assert client.get(url).status_code == 403
    client.force_login(allowed)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data


def test_a_dispatch_and_its_appendix_are_signed_stored_privately_in_the_bucket_and_mailed_from_it(
    draft, clerk, signing_certificate, s3_storage, smtp_server, celery_worker, fresh_broker, client, settings,
    small_pdf, django_user_model,
):  # fmt: skip
    draft.groups.add(make_group(2))
    appendix(draft, "bang-ke.pdf", small_pdf).save()
    issuing.issue(approve(draft), clerk)
    wait_until(lambda: settled(draft))

    draft.refresh_from_db()
    (item,) = draft.appendices.all()
    keys = set(s3_storage.keys())
    assert {draft.pdf.name, item.file.name, item.signed_file.name} <= keys
    assert sha(s3_storage.read(draft.pdf.name)) == draft.pdf_sha256
    assert sha(s3_storage.read(item.signed_file.name)) == item.signed_sha256
    assert not any(path.is_file() for path in settings.MEDIA_ROOT.rglob("*")), "nothing is written to the local disk"
    assert len(smtp_server.messages) == 2
    for message in smtp_server.messages:
        assert [sha(data) for data in attachments(message)] == [draft.pdf_sha256, item.signed_sha256]
    for key in (draft.pdf.name, item.file.name, item.signed_file.name):
        assert_private(s3_storage, key)
    assert "X-Amz-Signature=" in draft.pdf.url and "X-Amz-Expires=300" in draft.pdf.url, "only signed URLs"
    outsider = django_user_model.objects.create_user("khach", "k@x.vn", "pw", is_staff=True)
    pdf = s3_storage.read(draft.pdf.name)
    assert_download(client, reverse("files:dispatch_pdf", args=[draft.pk]), pdf, clerk, outsider)
    assert_download(client, reverse("files:appendix", args=[item.pk]), item.read(), clerk, outsider)


def test_each_personalised_copy_and_the_merge_data_are_stored_privately_and_each_office_gets_its_own(
    draft, clerk, signing_certificate, s3_storage, smtp_server, celery_worker, fresh_broker, client, django_user_model
):
    dispatch = issuing.issue(personalised(draft, 3), clerk)
    wait_until(lambda: settled(dispatch), timeout=120)

    made = {c.pk: c for c in DispatchCopy.objects.filter(dispatch=dispatch)}
    keys = set(s3_storage.keys())
    assert len(made) == 3 and {c.pdf.name for c in made.values()} <= keys
    merge = MergeFile.objects.get(dispatch=dispatch)
    assert merge.file.name in keys
    by_address = {d.address: d.organization_id for d in Delivery.objects.filter(dispatch=dispatch)}
    own = {c.organization_id: c for c in made.values()}
    for (_, (address,)), message in zip(smtp_server.handler.envelopes, smtp_server.messages, strict=True):
        copy = own[by_address[address]]
        assert [sha(data) for data in attachments(message)] == [copy.pdf_sha256]
        assert sha(s3_storage.read(copy.pdf.name)) == copy.pdf_sha256
        assert_private(s3_storage, copy.pdf.name)
    assert_private(s3_storage, merge.file.name)
    outsider = django_user_model.objects.create_user("khach", "k@x.vn", "pw", is_staff=True)
    copy = next(iter(made.values()))
    assert_download(client, reverse("files:dispatch_copy", args=[copy.pk]), copy.read(), clerk, outsider)
