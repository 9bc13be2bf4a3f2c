"""The merge data of a personalised dispatch (notices/models/merge.py): the raw file kept only for its retention."""

from __future__ import annotations

import datetime
import os

from django.urls import reverse
from django.utils import timezone

from notices import roles
from notices.models import Dispatch, DispatchCopy, MergeFile, MergeRecord
from notices.tasks import remove_merge_files
from tests.conftest import make_user


def test_the_raw_file_is_removed_after_the_retention_period(uploaded, settings):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    merge_file = MergeFile.objects.get(dispatch=uploaded)
    path = merge_file.file.path
    Dispatch.objects.filter(pk=uploaded.pk).update(issued_at=timezone.now() - datetime.timedelta(days=29))
    assert remove_merge_files() == 0
    Dispatch.objects.filter(pk=uploaded.pk).update(issued_at=timezone.now() - datetime.timedelta(days=31))
    assert remove_merge_files() == 1
    merge_file.refresh_from_db()
    assert merge_file.removed_at is not None and not merge_file.file and not os.path.exists(path)


def test_the_merge_records_are_deleted_with_the_file_only_once_every_copy_exists(client, uploaded, employers, settings):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    Dispatch.objects.filter(pk=uploaded.pk).update(
        status="sent", number=9, year=2026, series="regular", issued_at=timezone.now() - datetime.timedelta(days=31)
    )
    uploaded.refresh_from_db()
    for index, org in enumerate(employers[:2]):
        DispatchCopy.objects.store(uploaded, org, "a", b"%PDF-1", f"code-{index}", f"AAAA-BBBB-C{index + 2}")

    assert remove_merge_files() == 1  # the raw file goes; the third organisation's copy still needs its record
    merge_file = MergeFile.objects.get(dispatch=uploaded)
    assert merge_file.removed_at is not None and not merge_file.file
    assert MergeRecord.objects.filter(dispatch=uploaded).count() == 3
    removed_at = merge_file.removed_at

    DispatchCopy.objects.store(uploaded, employers[2], "a", b"%PDF-1", "code-2", "AAAA-BBBB-C4")
    assert remove_merge_files() == 1
    assert not MergeRecord.objects.filter(dispatch=uploaded).exists()
    assert DispatchCopy.objects.filter(dispatch=uploaded).count() == 3  # the signed copies remain the record
    assert MergeFile.objects.get(dispatch=uploaded).removed_at == removed_at
    assert remove_merge_files() == 0

    client.force_login(make_user("quantri", roles.ADMINISTRATOR))
    page = client.get(reverse("admin:notices_dispatch_merge", args=[uploaded.pk])).content.decode()
    assert "deleted on" in page and "No row for" not in page


def test_the_merge_records_of_a_dispatch_made_plain_after_the_upload_go_with_the_file(uploaded, settings):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    Dispatch.objects.filter(pk=uploaded.pk).update(
        personalised=False, status="sent", number=9, year=2026, series="regular",
        issued_at=timezone.now() - datetime.timedelta(days=31),
    )  # fmt: skip
    assert remove_merge_files() == 1
    assert not MergeRecord.objects.filter(dispatch=uploaded).exists()  # no copy will ever be made from them


def test_the_merge_records_of_a_dispatch_recalled_before_every_copy_existed_go_with_the_file(
    uploaded, employers, settings
):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    Dispatch.objects.filter(pk=uploaded.pk).update(
        status="recalled", number=9, year=2026, series="regular", recalled_at=timezone.now(),
        issued_at=timezone.now() - datetime.timedelta(days=29),
    )  # fmt: skip
    uploaded.refresh_from_db()
    DispatchCopy.objects.store(uploaded, employers[0], "a", b"%PDF-1", "code-0", "AAAA-BBBB-C2")
    assert remove_merge_files() == 0  # the retention counts from the issue, recalled or not
    Dispatch.objects.filter(pk=uploaded.pk).update(issued_at=timezone.now() - datetime.timedelta(days=31))

    assert remove_merge_files() == 1  # no more copies will be made: the records go now, as an issued one's would
    assert not MergeRecord.objects.filter(dispatch=uploaded).exists()
    assert not MergeFile.objects.get(dispatch=uploaded).file
    assert DispatchCopy.objects.filter(dispatch=uploaded).count() == 1  # the signed copy remains the record
    assert remove_merge_files() == 0
