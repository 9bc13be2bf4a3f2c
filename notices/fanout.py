"""The fan-out: turn an issued dispatch into one delivery per recipient address, page by page.

The dispatch's sorted addresses are cut into pages (ranges of addresses), so any workers can write the pages in
parallel and in any order; each page is written by two statements (deliveries, then their first events) that
run the same on PostgreSQL and SQLite, and repeating a page writes nothing twice.
"""

from __future__ import annotations

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notices import signals
from notices.metrics import FANOUT_PAGE_SECONDS
from notices.models import Delivery, DeliveryEvent, DeliveryKind, DeliveryStatus, Dispatch, DispatchStatus
from notices.transports import TransportError
from recipients.models import Suppression

S = DeliveryStatus
SUPPRESSED_DETAIL = "address is on the suppression list"
SECRET = "Secret dispatches are never emailed."


def start(dispatch: Dispatch) -> None:
    """Queue the fan-out of an issued dispatch once the current transaction commits (orchestration's entry point)."""
    dispatch_id = dispatch.pk
    transaction.on_commit(lambda: current_app.send_task("notices.fan_out", args=[dispatch_id]))


def begin_sending(dispatch: Dispatch) -> bool:
    """Mark an issued dispatch as sending (once) and tell the listeners; refuse a secret one."""
    if not dispatch.is_emailed:
        raise TransportError(SECRET, permanent=True)
    started = Dispatch.objects.filter(pk=dispatch.pk, status=DispatchStatus.ISSUED).update(
        status=DispatchStatus.SENDING, updated_at=timezone.now()
    )
    if started:
        dispatch.status = DispatchStatus.SENDING
        signals.sending_started.send(sender=Dispatch, dispatch=dispatch)
    return bool(started)


def plan_pages(dispatch: Dispatch) -> tuple[list[tuple[str, str | None]], int]:
    """Cut the dispatch's sorted addresses into pages; return the (after, up to) bounds and the number of
    deliveries the pages write (one per address; of a personalised dispatch, one per address and organisation)."""
    page_sql, params = dispatch.recipient_addresses().query.sql_with_params()
    sql = (
        f"SELECT address, rn, total, pairs FROM (SELECT address, row_number() OVER (ORDER BY address) AS rn, "
        f"count(*) OVER () AS total, sum(n) OVER () AS pairs FROM (SELECT address, count(DISTINCT organization_id) "
        f"AS n FROM ({page_sql}) q GROUP BY address) d) r WHERE rn %% %s = 0 OR rn = total"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, settings.SEND_FANOUT_PAGE_SIZE])
        rows = cursor.fetchall()
    total = rows[-1][2] if rows else 0
    bounds, after = [], ""
    for address, rn, _, _ in rows:
        if rn < total:
            bounds.append((after, address))
            after = address
    expected = int(rows[-1][3]) if rows and dispatch.personalised else total
    return bounds + ([(after, None)] if total else []), expected


# Keep the column lists in step with the models. Of a dispatch every recipient shares, the first row of each
# address wins (the organisation whose primary address it is, else the first by id) and an address already
# written is never written again for another organisation; a personalised dispatch writes one row per address
# and organisation, each carrying that organisation's copy (an address two organisations share receives both).
DELIVERIES_SQL = """
INSERT INTO {delivery} (dispatch_id, kind, organization_id, organization_name, search_name, address, status,
                        attempts, last_error, provider_message_id, created_at, updated_at)
SELECT %s, %s, f.organization_id, f.organization__name, f.organization__search_name, f.address,
       CASE WHEN EXISTS (SELECT 1 FROM {suppression} s WHERE s.lifted_at IS NULL AND lower(s.address) = f.address)
            THEN %s ELSE %s END, 0, '', '', %s, %s
FROM (SELECT p.*, row_number() OVER (PARTITION BY {partition} ORDER BY p."primary" DESC, p.organization_id) AS rn
      FROM ({page}) p) f
WHERE f.rn = 1 {once_per_address}
ON CONFLICT (dispatch_id, address, organization_id) WHERE kind = 'dispatch' DO NOTHING
RETURNING id, status
"""
# Only a page written before (a replay) needs this, and only within its own range of addresses: on a dispatch whose
# deliveries are still being written, PostgreSQL's statistics say it has almost none, and an unbounded anti-join
# became a nested loop over all of them per address (a 100,000-address fan-out took minutes per page).
ONCE_PER_ADDRESS = (
    "AND NOT EXISTS (SELECT 1 FROM {delivery} d WHERE d.dispatch_id = %s AND d.kind = 'dispatch' "
    "AND d.address = f.address AND d.address > %s {upto})"
)
EVENTS_SQL = """
INSERT INTO {event} (delivery_id, type, at, detail, provider_event_id)
SELECT id, status, %s, CASE WHEN status = %s THEN %s ELSE '' END, '' FROM {delivery} WHERE id IN ({ids})
"""


@FANOUT_PAGE_SECONDS.time()
def write_page(dispatch: Dispatch, after: str, upto: str | None) -> list[int]:
    """Write the deliveries of the addresses after `after` up to `upto` (inclusive); return the new queued ids.

    Suppressed addresses are recorded with the status `suppressed`. Safe to repeat: existing rows are kept.
    """
    page = dispatch.recipient_addresses().filter(address__gt=after)
    if upto is not None:
        page = page.filter(address__lte=upto)
    page = page.values_list("organization_id", "organization__name", "organization__search_name", "address", "primary")
    page_sql, page_params = page.query.sql_with_params()
    tables = {"delivery": Delivery._meta.db_table, "suppression": Suppression._meta.db_table,
              "event": DeliveryEvent._meta.db_table}  # fmt: skip
    per_copy = dispatch.personalised
    replay = not per_copy and page_written(dispatch, after, upto)
    once = ONCE_PER_ADDRESS.format(upto="" if upto is None else "AND d.address <= %s", **tables) if replay else ""
    shape = {"partition": "p.address, p.organization_id" if per_copy else "p.address", "once_per_address": once}
    once_params: list[int | str] = [dispatch.pk, after, *([] if upto is None else [upto])] if replay else []
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DELIVERIES_SQL.format(page=page_sql, **shape, **tables),
                       [dispatch.pk, DeliveryKind.DISPATCH, S.SUPPRESSED, S.QUEUED, now, now, *page_params, *once_params])  # fmt: skip
        inserted = cursor.fetchall()
        if inserted:
            ids = ", ".join(str(int(pk)) for pk, _ in inserted)
            cursor.execute(EVENTS_SQL.format(ids=ids, **tables), [now, S.SUPPRESSED, SUPPRESSED_DETAIL])
    return sorted(pk for pk, status in inserted if status == S.QUEUED)


def page_written(dispatch: Dispatch, after: str, upto: str | None) -> bool:
    """Return whether a delivery of the dispatch already exists for an address of the page (it is replayed)."""
    written = Delivery.objects.filter(dispatch=dispatch, kind=DeliveryKind.DISPATCH, address__gt=after)
    return (written if upto is None else written.filter(address__lte=upto)).exists()


def finish_fan_out(dispatch: Dispatch) -> None:
    """Note that every delivery of the dispatch is written, then finish it if nothing waits."""
    Dispatch.objects.filter(pk=dispatch.pk, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    dispatch.finish_sending_if_done()


def finish_fan_out_if_complete(dispatch: Dispatch, expected: int) -> None:
    """Finish the fan-out once the dispatch has a delivery for each of the `expected` addresses."""
    if dispatch.deliveries.count() >= expected:
        finish_fan_out(dispatch)


def create_deliveries(dispatch: Dispatch) -> int:
    """Write every delivery of an issued dispatch in this process (small dispatches, tests); return how many exist.

    The workers fan out in parallel pages instead (`tasks.fan_out`). Refuses a secret dispatch.
    """
    begin_sending(dispatch)
    for after, upto in plan_pages(dispatch)[0]:
        write_page(dispatch, after, upto)
    finish_fan_out(dispatch)
    return dispatch.deliveries.count()
