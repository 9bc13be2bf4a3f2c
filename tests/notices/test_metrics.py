"""What is measured (notices/metrics.py): renders and signatures, where they happen."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from notices import copies, rendering, signing

pytestmark = pytest.mark.django_db


def count(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(f"{name}_count", labels or {}) or 0.0


def test_rendering_and_signing_a_dispatch_are_timed(approved, signing_certificate):
    renders, signatures = count("congvan_render_seconds", {"what": "dispatch"}), count("congvan_signing_seconds")
    pdf = copies.signed_pdf(approved, rendering.dispatch_html(approved))
    assert signing.check_signature(pdf).ok
    assert count("congvan_render_seconds", {"what": "dispatch"}) == renders + 1
    assert count("congvan_signing_seconds") == signatures + 1
