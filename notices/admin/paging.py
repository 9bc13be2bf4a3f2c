"""Pagination for tables of a million rows: exact totals and every page, each read through the keys first."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _


class KeysFirstPaginator(Paginator):
    """Count exactly and cheaply, and read a page by its primary keys before its rows.

    The count drops the ordering and the annotations (an index-only count on PostgreSQL). A deep page skips
    its offset over the keys alone (an index scan on an indexed ordering), from the nearer end of the
    ordering, then loads only the rows shown: no page of a million rows skips more than half of them.
    """

    object_list: QuerySet[Any]  # the admin's change list pages a queryset

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk").count()

    def page(self, number):
        """Return the page, or the last page for a number beyond it (the change list says so)."""
        try:
            number = self.validate_number(number)
        except EmptyPage:
            if int(number) < 1:
                raise
            number = self.num_pages
        bottom = (number - 1) * self.per_page
        keys = self.page_keys(bottom, min(bottom + self.per_page, self.count))
        rows = {row.pk: row for row in self.object_list.order_by().filter(pk__in=keys)}
        # Paginator._get_page is Django's hook for the page class, missing from the stubs.
        return self._get_page([rows[key] for key in keys if key in rows], number, self)  # type: ignore[attr-defined]

    def page_keys(self, bottom: int, top: int) -> list:
        """Return the keys of rows bottom..top, read from whichever end of the ordering is nearer."""
        keys = self.object_list.values_list("pk", flat=True)
        if bottom <= self.count // 2 or not self.object_list.ordered:
            return list(keys[bottom:top])
        return list(keys.reverse()[self.count - top : self.count - bottom])[::-1]


class ExactChangeList(ChangeList):
    """A change list whose page beyond the last shows the last page and says so (never silently page 1)."""

    def get_results(self, request) -> None:
        asked = self.page_num
        super().get_results(request)  # the paginator reads the last page for a page beyond it (one count)
        last = self.paginator.num_pages  # a one-page list is shown whole, whatever page was asked for
        if asked > last:
            self.page_num = last
            messages.warning(
                request,
                _("Page %(page)d does not exist: the list has %(pages)d pages. This is the last one.")
                % {"page": asked, "pages": last},
            )


CappedCountPaginator = KeysFirstPaginator  # the former name, still imported by the dispatch list (admin/workflow.py)
