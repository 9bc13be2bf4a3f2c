"""A pytest plugin for `make mutants` only: mutmut runs pytest several times in one process."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """Forget the content-type ids an earlier run in this process cached (they may name rows flushed since)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
