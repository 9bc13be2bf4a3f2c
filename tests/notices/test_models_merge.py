"""The merge data of a personalised dispatch (notices/models/merge.py): the raw file kept only for its retention."""

from __future__ import annotations

import datetime
import os

from django.utils import timezone

from notices.models import Dispatch, MergeFile
from notices.tasks import remove_merge_files


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
