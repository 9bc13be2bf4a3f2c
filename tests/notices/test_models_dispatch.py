"""The dispatch model's own rules (notices/models/dispatch.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notices.models import Dispatch


@pytest.mark.django_db
def test_a_subject_with_control_characters_is_refused_on_save(draft):
    for subject in ["phối hợp\r\nBcc: all@example.vn", "phối hợp\nthu", "phối hợp\x07"]:
        draft.subject = subject
        with pytest.raises(ValidationError):
            draft.save()
        with pytest.raises(ValidationError):
            draft.full_clean()
    assert Dispatch.objects.get(pk=draft.pk).subject == "phối hợp đôn đốc đóng BHXH, BHYT năm 2026"
