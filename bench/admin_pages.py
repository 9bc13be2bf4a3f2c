"""Time every auditor list and filter page with 1,000 dispatches and 1,000,000 deliveries in PostgreSQL.

Seeds its own database (BENCH_DATABASE_URL, default DATABASE_URL + `_audit_bench`) once, then prints one JSON line per
page: the median and worst server time over several requests through Django's test client (middleware, admin,
templates: everything but the network), next to two baselines measured in the same run: a primary-key lookup and a
trivial page. The seed goes through the models (bulk_create, and INSERT ... SELECT whose column list comes from the
model), so a column added later gets its default instead of breaking the benchmark.

    python bench/admin_pages.py                         # seed if needed, then measure
    python bench/admin_pages.py --reseed
    python bench/admin_pages.py --dispatches 5 --per-dispatch 4 --organisations 10 --repeats 1   # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
import _support as support  # noqa: E402

# A database of its own next to the usual one (never the one in use), kept between runs: seeding takes a minute.
BENCH_URL = os.environ.get("BENCH_DATABASE_URL") or support.default_database_url() + "_audit_bench"
if not BENCH_URL.startswith("postgres"):
    sys.exit("bench/admin_pages.py needs PostgreSQL: set DATABASE_URL or BENCH_DATABASE_URL to a postgres:// URL.")
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

LIMIT_MS = 300
URGENCIES = ["", "", "", "khan", "thuong_khan", "hoa_toc"]


def ensure_database() -> None:
    """Create the benchmark database if it does not exist (a copy of BENCH_TEMPLATE_DATABASE when set)."""
    import psycopg

    name = BENCH_URL.rsplit("/", 1)[1]
    server = BENCH_URL.rsplit("/", 1)[0] + "/postgres"
    template = os.environ.get("BENCH_TEMPLATE_DATABASE")
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def insert_select(model, values: dict[str, str], source: str) -> None:
    """INSERT INTO the model's table SELECT ... FROM `source`, with every concrete column of the model.

    `values` gives the SQL of some columns; every other column gets its field's default, so a field added later
    cannot break the seed (one without a default stops it with its name).
    """
    from django.db import connection

    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    unknown = set(values) - {field.column for field in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    columns, expressions, params = [], [], []
    for field in fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.column in values:
            expressions.append(values[field.column].replace("%", "%%"))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        elif field.get_default() is not None or field.null:  # a text field's default is "" even unstated
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            raise ValueError(f"the seed of {model.__name__} needs a value for {field.name} (it has no default)")
    table, source = model._meta.db_table, source.replace("%", "%%")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} {source}", params)


def seed(size: argparse.Namespace) -> None:
    """Fill the benchmark database (about a minute at full size), then refresh the planner's statistics."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import F
    from django.utils import timezone

    from notices.models import Delivery, DeliveryEvent, Dispatch, DraftingUnit, Issuer, Signer
    from recipients.folding import fold
    from recipients.models import Organization, OrganizationEmail, OrganizationKind, search_form

    started = time.perf_counter()
    call_command("flush", interactive=False, verbosity=0)
    issuer = Issuer.objects.create(parent_body="BẢO HIỂM XÃ HỘI VIỆT NAM", name="BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI",
                                   abbreviation="BHXH")  # fmt: skip
    units = DraftingUnit.objects.bulk_create(
        DraftingUnit(issuer=issuer, name=f"Phòng {code}", abbreviation=code)
        for code in ["QLT", "CĐBHXH", "CĐBHYT", "KHTC", "TTKT", "TCCB", "TTHT", "CNTT", "VP"]
    )
    signer = Signer.objects.create(issuer=issuer, full_name="Nguyễn Văn Minh", authority="KT. GIÁM ĐỐC",
                                   position="PHÓ GIÁM ĐỐC")  # fmt: skip
    kinds = OrganizationKind.values
    # bulk_create skips save(), which keeps the folded search columns: the seed gives them, as the bulk writers do.
    organisations = Organization.objects.bulk_create(
        (Organization(name=f"Đơn vị nhận số {i}", search_name=search_form(f"Đơn vị nhận số {i}"),
                      kind=kinds[i % len(kinds)], level="commune")
         for i in range(1, size.organisations + 1)),
        batch_size=5000,
    )  # fmt: skip
    OrganizationEmail.objects.bulk_create(
        (OrganizationEmail(organization=org, address=f"org{org.pk}@example.vn", primary=True) for org in organisations),
        batch_size=5000,
    )
    now = timezone.now()
    Dispatch.objects.bulk_create(
        (Dispatch(issuer=issuer, drafting_unit=units[g % len(units)], signer=signer, subject=f"phối hợp thực hiện nhiệm vụ số {g}",
                  search_subject=fold(f"phối hợp thực hiện nhiệm vụ số {g}"),
                  body="<p>Nội dung./.</p>", urgency=URGENCIES[g % len(URGENCIES)], series="regular", year=2026, number=g,
                  status="recalled" if g % 50 == 0 else "sent", pdf_sha256=f"{g:064x}",
                  issued_at=now - (size.dispatches - g) * datetime.timedelta(hours=8))
         for g in range(1, size.dispatches + 1)),
        batch_size=5000,
    )  # fmt: skip
    Dispatch.objects.update(created_at=F("issued_at"))
    first_org = organisations[0].pk
    # Each dispatch to `per_dispatch` distinct organisations; a few bounced or failed, a third acknowledged.
    insert_select(
        Delivery,
        {
            "dispatch_id": "d.id",
            "organization_id": "o.id",
            "organization_name": "o.name",
            "search_name": "o.search_name",
            "address": "'org' || o.id || '@example.vn'",
            "status": "CASE WHEN (d.id + n) % 97 = 0 THEN 'bounced' WHEN (d.id + n) % 331 = 0 THEN 'failed' "
            "ELSE 'delivered' END",
            "attempts": "1",
            "provider_message_id": "'<' || d.id || '.' || n || '@mail.example.vn>'",
            "created_at": "d.issued_at",
            "sent_at": "d.issued_at + interval '1 minute'",
            "acknowledged_at": "CASE WHEN n % 3 = 0 THEN d.issued_at + interval '1 day' END",
            "updated_at": "d.issued_at",
        },
        f"FROM notices_dispatch d CROSS JOIN generate_series(1, {size.per_dispatch}) n "
        f"JOIN recipients_organization o ON o.id = {first_org} + (d.number + n) % {size.organisations}",
    )
    insert_select(
        DeliveryEvent,
        {"delivery_id": "id", "type": "t", "at": "sent_at + interval '5 seconds'", "detail": "'250 OK'"},
        "FROM notices_delivery, unnest(ARRAY['sent', 'delivered']) t WHERE id % 100 = 0",
    )
    seed_audit_events(size.audit_events, size.dispatches)
    seed_corrections()
    connection.cursor().execute("VACUUM ANALYZE")
    print(json.dumps({"seeded": True, "seconds": round(time.perf_counter() - started, 1)}), flush=True)


def seed_audit_events(count: int, dispatches: int) -> None:
    """Append `count` correctly chained audit events (hashes computed here, inserted in bulk)."""
    from notices.models import AuditEvent
    from notices.models.audit import GENESIS_HASH

    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first() or {"seq": 0, "hash": GENESIS_HASH}
    seq, prev, rows = last["seq"], last["hash"], []
    for i in range(count):
        seq += 1
        event = AuditEvent(seq=seq, action=("login", "export", "issue", "approve")[i % 4], actor_name="kiemtoan",
                           object_type="notices.dispatch", object_id=str(1 + i % dispatches), prev_hash=prev)  # fmt: skip
        event.hash = prev = event.compute_hash()
        rows.append(event)
    AuditEvent.objects.bulk_create(rows, batch_size=5000)


def seed_corrections() -> None:
    """Open a correction item for each bounced (organisation, address), and fill the dashboard's summary table."""
    from recipients.corrections import CorrectionItem

    insert_select(
        CorrectionItem,
        {"organization_id": "organization_id", "address": "address", "reason": "'bounce'",
         "since": "min(updated_at)", "status": "'open'"},
        "FROM notices_delivery WHERE status = 'bounced' GROUP BY organization_id, address",
    )  # fmt: skip
    refresh_counts()


def refresh_counts() -> int:
    """Recompute the dashboard's summary table for every dispatch (beat does the recent ones); return its rows."""
    from notices.models import Dispatch, DispatchCount

    return DispatchCount.objects.refresh(list(Dispatch.objects.values_list("pk", flat=True)))


def needs_seed(size: argparse.Namespace) -> bool:
    """Return whether the database lacks the asked size (the delivery count is the planner's estimate)."""
    from django.db import connection

    from notices.models import Dispatch

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'notices_delivery'")
        estimate = cursor.fetchone()[0]
    wanted = size.dispatches * size.per_dispatch
    return size.reseed or Dispatch.objects.count() != size.dispatches or abs(estimate - wanted) > wanted * 0.1


def timed(fn, repeats: int) -> tuple[float, float, int, object]:
    """Return the median and worst milliseconds of `fn` over `repeats` runs after one warm-up, the number of SQL
    queries of one run, and its result."""
    from django.db import connection

    queries = []  # an execute wrapper: each request's start resets connection.queries

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1), round(max(samples), 1), len(queries), result


def sql(statement: str, params: list | None = None):
    """Return a function running one SQL statement and fetching its rows (a baseline beside the pages)."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(statement, params or [])
            return cursor.fetchall()

    return run


def pages(per_page: int = 50) -> dict[str, str]:
    """Return the pages to time: every auditor list, filter and search (first, middle, last and beyond the last
    page of the million deliveries), the per-object views, and the organisation list, search and autocomplete."""
    from notices.models import Delivery, Dispatch, DraftingUnit
    from recipients.models import Organization

    dispatches = Dispatch.objects.order_by("number")
    dispatch = dispatches[min(500, dispatches.count() - 1)]
    unit = DraftingUnit.objects.order_by("pk").first()
    organisations = Organization.objects.order_by("pk")
    organisation = organisations[min(100, organisations.count() - 1)]
    delivery = Delivery.objects.filter(dispatch=dispatch).order_by("pk").first()
    reg, hist, trail = "/admin/notices/outgoingregister/", "/admin/notices/sendrecord/", "/admin/notices/auditevent/"
    orgs = "/admin/recipients/organization/"
    complete = "/admin/autocomplete/?app_label=notices&model_name=dispatch&field_name=organizations"
    last = max(1, -(-Delivery.objects.count() // per_page))  # the send history's last page
    return {
        "register": reg,
        "register_filter_status_urgency": f"{reg}?status__exact=sent&urgency__exact=khan",
        "register_filter_unit_date": f"{reg}?drafting_unit__id__exact={unit.pk}&issued_at__gte=2026-01-01+00%3A00%3A00%2B07%3A00",
        "register_search_number": f"{reg}?q={dispatch.number:02d}/BHXH",
        "register_page_5": f"{reg}?p=5",
        "register_entry_history": f"{reg}{dispatch.pk}/change/",
        "send_history": hist,
        "send_history_page_40": f"{hist}?p=40",
        "send_history_middle_page": f"{hist}?p={max(1, last // 2)}",
        "send_history_last_page": f"{hist}?p={last}",
        "send_history_beyond_last_page": f"{hist}?p={last * 5}",
        "send_history_status_bounced": f"{hist}?status__exact=bounced",
        "send_history_kind_police": f"{hist}?kind=police",
        "send_history_unit": f"{hist}?unit={unit.pk}",
        "send_history_urgency_hoa_toc": f"{hist}?urgency=hoa_toc",
        "send_history_date_range": f"{hist}?created_at__gte=2026-01-01+00%3A00%3A00%2B07%3A00&created_at__lt=2026-02-01+00%3A00%3A00%2B07%3A00",
        "send_history_combined": f"{hist}?status__exact=delivered&kind=employer&urgency=khan",
        "send_history_search_email": f"{hist}?q=org{organisation.pk}@example.vn",
        "send_history_search_number": f"{hist}?q={dispatch.number:02d}/BHXH",
        "send_history_search_subject": f"{hist}?q=nhiệm vụ số 77",
        "send_history_search_organisation": f"{hist}?q=Đơn vị nhận số 1234",
        "send_history_search_without_accents": f"{hist}?q=don vi nhan so 1234",
        "per_dispatch": f"{hist}?dispatch__id__exact={dispatch.pk}",
        "per_organisation": f"{hist}?organization__id__exact={organisation.pk}",
        "per_delivery_timeline": f"{hist}{delivery.pk}/change/",
        "audit_trail": trail,
        "audit_trail_filter_action": f"{trail}?action=export",
        "audit_trail_search_without_accents": f"{trail}?q=nhiem vu",
        "dispatch_list": "/admin/notices/dispatch/",
        "dispatch_list_search_without_accents": "/admin/notices/dispatch/?q=nhiem vu so 77",
        "send_history_status_failed": f"{hist}?status__exact=failed",  # the former second delivery screen's filter
        "register_search_without_accents": f"{reg}?q=nhiem vu so 77",
        "organisation_list": orgs,
        "organisation_search_without_accents": f"{orgs}?q=don vi nhan so 1234",
        "organisation_autocomplete": f"{complete}&term=don vi nhan so 12",
        "dashboard": "/admin/tong-quan/",
        "dispatch_chart": f"/admin/tong-quan/cong-van/{dispatch.pk}/bieu-do.svg",
        "dispatch_page_with_chart": f"/admin/notices/dispatch/{dispatch.pk}/change/",
        "correction_items": "/admin/recipients/correctionitem/",
        "correction_items_page_10": "/admin/recipients/correctionitem/?p=10",
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispatches", type=int, default=1000)
    parser.add_argument("--per-dispatch", type=int, default=1000, help="deliveries of each dispatch")
    parser.add_argument("--organisations", type=int, default=2000)
    parser.add_argument("--audit-events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7, help="timed requests per page, after one warm-up")
    parser.add_argument("--reseed", action="store_true", default=os.environ.get("BENCH_RESEED") == "1")
    return parser.parse_args()


def main() -> None:
    # Other processes on the machine slow every figure alike: the load average before anything starts, then again
    # before the pages are measured, and the baselines measured in the same run tell how much.
    machine = {"cpus": os.cpu_count(), "load_avg_1min_at_start": round(os.getloadavg()[0], 2)}
    size = arguments()
    ensure_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from notices import roles
    from notices.models import Delivery, DispatchCount

    call_command("migrate", verbosity=0)
    if needs_seed(size):
        seed(size)
    elif not DispatchCount.objects.exists():  # a database seeded before the dashboard existed
        seed_corrections()
    setup_test_environment()
    auditor, _ = get_user_model().objects.get_or_create(username="bench-auditor", defaults={"is_staff": True})
    auditor.groups.add(roles.ensure_roles()[roles.AUDITOR])
    client = Client()
    client.force_login(auditor)

    deliveries = Delivery.objects.order_by("pk").values_list("pk", flat=True)
    some_pk = deliveries[deliveries.count() // 2]
    keyset = "SELECT * FROM notices_delivery WHERE id < %s ORDER BY id DESC LIMIT 50"
    baselines = {
        "pk_lookup": lambda: Delivery.objects.get(pk=some_pk),
        "count_star": sql("SELECT count(*) FROM notices_delivery"),
        "keyset_page": sql(keyset, [some_pk]),
        "trivial_page": lambda: client.get("/admin/password_change/").status_code,
        # What beat does every DASHBOARD_REFRESH_SECONDS: recompute the recent dispatches' summary rows.
        "dashboard_refresh": lambda: DispatchCount.objects.refresh_recent(),
    }
    baseline = {}
    for name, fn in baselines.items():
        baseline[f"baseline_{name}_ms"] = timed(fn, size.repeats)[0]
    machine["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps({"deliveries": Delivery.objects.count(), **machine, **baseline}), flush=True)
    worst = 0.0
    for name, url in pages().items():
        median, peak, queries, status = timed(lambda url=url: client.get(url).status_code, size.repeats)
        worst = max(worst, median)
        line = {"page": name, "url": url, "status": status, "median_ms": median, "max_ms": peak, "queries": queries,
                "ok": status == 200 and median <= LIMIT_MS}  # fmt: skip
        print(json.dumps(line, ensure_ascii=False), flush=True)
    summary = {"summary": "worst median", "ms": worst, "limit_ms": LIMIT_MS, "ok": worst <= LIMIT_MS}
    print(json.dumps({**summary, "load_avg_1min_at_end": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
