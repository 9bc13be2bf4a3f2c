"""Signals of the directory, for concerns that must know without recipients importing them (the audit trail)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `user=` and `summary=` (an ImportSummary) inside the import's transaction, just before it commits.
directory_imported = Signal()
