"""Give the admin's mixins a base the type checker reads as `ModelAdmin` and Python runs as `object`.

A mixin such as `WorkflowAdminMixin` calls `ModelAdmin` methods (`message_user`, `get_urls`, `super().save_model`)
that only its final class provides; subclassing `ModelAdminMixinBase` lets mypy check those calls without changing
the classes' method resolution order at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

if TYPE_CHECKING:
    ModelAdminMixinBase = admin.ModelAdmin[Any]
else:
    ModelAdminMixinBase = object
