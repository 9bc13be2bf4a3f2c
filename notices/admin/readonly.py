"""Records that nobody edits through the admin: deliveries, the register, the send history, the audit trail."""

from __future__ import annotations


class ReadOnlyMixin:
    """Refuse adding, changing and deleting; viewing follows the user's view permission."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
