"""Time every auditor list and filter page with 1,000 dispatches and 1,000,000 deliveries in PostgreSQL.

Seeds its own database (BENCH_DATABASE_URL, default `cv_audit_bench`) once with SQL generate_series, then prints
one JSON line per page: the median and worst server time over several requests through Django's test client
(middleware, admin, templates: everything but the network), next to two baselines measured in the same run:
a primary-key lookup and a trivial page.

    python bench/admin_pages.py            # seed if needed, then measure
    BENCH_RESEED=1 python bench/admin_pages.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
# A database of its own next to the usual one (never the one in use): DATABASE_URL + "_bench".
BENCH_URL = os.environ.get("BENCH_DATABASE_URL") or (
    os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/congvan") + "_bench"
)
if not BENCH_URL.startswith("postgres"):
    sys.exit("bench/admin_pages.py needs PostgreSQL: set DATABASE_URL or BENCH_DATABASE_URL to a postgres:// URL.")
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

DISPATCHES, PER_DISPATCH, ORGANISATIONS = 1000, 1000, 2000
REPEATS, LIMIT_MS = 7, 300


def ensure_database() -> None:
    """Create the benchmark database if it does not exist."""
    import psycopg

    name = BENCH_URL.rsplit("/", 1)[1]
    server = BENCH_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


SEED_SQL = [
    "TRUNCATE notices_deliveryevent, notices_recallnotice, notices_delivery, notices_dispatch_groups, "
    "notices_dispatch_organizations, notices_dispatch, notices_registercounter, notices_signer, "
    "notices_draftingunit, notices_issuer, recipients_organizationemail, recipients_recipientgroup_members, "
    "recipients_organization CASCADE",
    "INSERT INTO notices_issuer (parent_body, name, abbreviation, place, address, phone, email, website) "
    "VALUES ('BẢO HIỂM XÃ HỘI VIỆT NAM', 'BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI', 'BHXH', 'Hà Nội', '', '', '', '')",
    "INSERT INTO notices_draftingunit (issuer_id, name, abbreviation) SELECT i.id, 'Phòng ' || u, u "
    "FROM notices_issuer i, unnest(ARRAY['QLT','CĐBHXH','CĐBHYT','KHTC','TTKT','TCCB','TTHT','CNTT','VP']) u",
    "INSERT INTO notices_signer (issuer_id, full_name, authority, position, active) "
    "SELECT id, 'Nguyễn Văn Minh', 'KT. GIÁM ĐỐC', 'PHÓ GIÁM ĐỐC', true FROM notices_issuer",
    f"INSERT INTO recipients_organization (name, short_name, kind, level, area, agency_code, bhxh_code, tax_code, "
    f"phone, address, active, created_at, updated_at) "
    f"SELECT 'Đơn vị nhận số ' || g, '', (ARRAY['bhxh','police','committee','department','employer','agent','other'])"
    f"[1 + g % 7], 'commune', '', '', '', '', '', '', true, now(), now() FROM generate_series(1, {ORGANISATIONS}) g",
    'INSERT INTO recipients_organizationemail (organization_id, address, "primary") '
    "SELECT id, 'org' || id || '@example.vn', true FROM recipients_organization",
    f"INSERT INTO notices_dispatch (issuer_id, drafting_unit_id, signer_id, subject, addressees, body, urgency, "
    f"secrecy, extra_distribution, status, series, year, number, issued_at, pdf, pdf_sha256, verification_code, "
    f"short_code, created_at, updated_at, return_comment, recall_reason) "
    f"SELECT i.id, (SELECT min(id) FROM notices_draftingunit) + g % 9, (SELECT min(id) FROM notices_signer), "
    f"'phối hợp thực hiện nhiệm vụ số ' || g, '', '<p>Nội dung./.</p>', "
    f"(ARRAY['', '', '', 'khan', 'thuong_khan', 'hoa_toc'])[1 + g % 6], '', '', "
    f"CASE WHEN g % 50 = 0 THEN 'recalled' ELSE 'sent' END, 'regular', 2026, g, "
    f"now() - ({DISPATCHES} - g) * interval '8 hours', '', md5(g::text) || md5(g::text), '', '', "
    f"now() - ({DISPATCHES} - g) * interval '8 hours', now(), '', '' "
    f"FROM notices_issuer i, generate_series(1, {DISPATCHES}) g",
    # One million deliveries: each dispatch to 1,000 distinct organisations; a few bounced, some acknowledged.
    f"INSERT INTO notices_delivery (dispatch_id, organization_id, organization_name, address, status, attempts, "
    f"last_error, provider_message_id, created_at, sent_at, acknowledged_at, updated_at) "
    f"SELECT d.id, o.id, o.name, 'org' || o.id || '@example.vn', "
    f"CASE WHEN (d.id + n) % 97 = 0 THEN 'bounced' WHEN (d.id + n) % 331 = 0 THEN 'failed' ELSE 'delivered' END, 1, "
    f"'', '<' || d.id || '.' || n || '@mail.example.vn>', d.issued_at, d.issued_at + interval '1 minute', "
    f"CASE WHEN n % 3 = 0 THEN d.issued_at + interval '1 day' END, d.issued_at "
    f"FROM notices_dispatch d CROSS JOIN generate_series(1, {PER_DISPATCH}) n "
    f"JOIN recipients_organization o ON o.id = (SELECT min(id) FROM recipients_organization) "
    f"+ (d.number + n) % {ORGANISATIONS}",
    "INSERT INTO notices_deliveryevent (delivery_id, type, at, detail, provider_event_id) "
    "SELECT id, t, sent_at + interval '5 seconds', '250 OK', '' FROM notices_delivery, unnest(ARRAY['sent', "
    "'delivered']) t WHERE id % 100 = 0",
]


def seed() -> None:
    """Fill the benchmark database with SQL (about a minute), then refresh the planner's statistics."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in SEED_SQL:
            cursor.execute(statement)
    seed_audit_events(20_000)
    connection.cursor().execute("VACUUM ANALYZE")
    print(json.dumps({"seeded": True, "seconds": round(time.perf_counter() - started, 1)}), flush=True)


def seed_audit_events(count: int) -> None:
    """Append `count` correctly chained audit events (hashes computed here, inserted in bulk)."""
    from notices.models import AuditEvent
    from notices.models.audit import GENESIS_HASH

    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first() or {"seq": 0, "hash": GENESIS_HASH}
    seq, prev, rows = last["seq"], last["hash"], []
    for i in range(count):
        seq += 1
        event = AuditEvent(seq=seq, action=("login", "export", "issue", "approve")[i % 4], actor_name="kiemtoan",
                           object_type="notices.dispatch", object_id=str(1 + i % DISPATCHES), prev_hash=prev)  # fmt: skip
        event.hash = prev = event.compute_hash()
        rows.append(event)
    AuditEvent.objects.bulk_create(rows, batch_size=5000)


def needs_seed() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'notices_delivery'")
        estimate = cursor.fetchone()[0]
    return os.environ.get("BENCH_RESEED") == "1" or estimate < DISPATCHES * PER_DISPATCH * 0.9


def timed(fn) -> tuple[float, float, int]:
    """Return the median and worst milliseconds of `fn` over REPEATS runs after one warm-up, and its result."""
    result = fn()
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1), round(max(samples), 1), result


def pages() -> dict[str, str]:
    """Return the pages to time: every auditor list, filter and search, and the per-object views."""
    from notices.models import Delivery, Dispatch, DraftingUnit
    from recipients.models import Organization

    dispatch = Dispatch.objects.order_by("number")[500]
    unit = DraftingUnit.objects.order_by("pk").first()
    organisation = Organization.objects.order_by("pk")[100]
    delivery = Delivery.objects.filter(dispatch=dispatch).order_by("pk").first()
    reg, hist, trail = "/admin/notices/outgoingregister/", "/admin/notices/sendrecord/", "/admin/notices/auditevent/"
    return {
        "register": reg,
        "register_filter_status_urgency": f"{reg}?status__exact=sent&urgency__exact=khan",
        "register_filter_unit_date": f"{reg}?drafting_unit__id__exact={unit.pk}&issued_at__gte=2026-01-01+00%3A00%3A00%2B07%3A00",
        "register_search_number": f"{reg}?q={dispatch.number:02d}/BHXH",
        "register_page_5": f"{reg}?p=5",
        "register_entry_history": f"{reg}{dispatch.pk}/change/",
        "send_history": hist,
        "send_history_page_40": f"{hist}?p=40",
        "send_history_page_10000": f"{hist}?p=10000",
        "send_history_last_page": f"{hist}?p=20000",
        "send_history_beyond_last_page": f"{hist}?p=99999",
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
    }


def main() -> None:
    ensure_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from notices import roles
    from notices.models import Delivery

    call_command("migrate", verbosity=0)
    if needs_seed():
        seed()
    setup_test_environment()
    auditor, _ = get_user_model().objects.get_or_create(username="bench-auditor", defaults={"is_staff": True})
    auditor.groups.add(roles.ensure_roles()[roles.AUDITOR])
    client = Client()
    client.force_login(auditor)

    some_pk = Delivery.objects.order_by("pk").values_list("pk", flat=True)[500_000]
    pk_ms, _, _ = timed(lambda: Delivery.objects.get(pk=some_pk))
    trivial_ms, _, _ = timed(lambda: client.get("/admin/password_change/").status_code)
    baseline = {"baseline_pk_lookup_ms": pk_ms, "baseline_trivial_page_ms": trivial_ms}
    # Other processes on the machine slow every figure alike: the load average and the baselines tell how much.
    machine = {"cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2)}
    print(json.dumps({"deliveries": Delivery.objects.count(), **machine, **baseline}), flush=True)
    worst = 0.0
    for name, url in pages().items():
        median, peak, status = timed(lambda url=url: client.get(url).status_code)
        worst = max(worst, median)
        line = {"page": name, "url": url, "status": status, "median_ms": median, "max_ms": peak,
                "ok": status == 200 and median <= LIMIT_MS, **baseline}  # fmt: skip
        print(json.dumps(line, ensure_ascii=False), flush=True)
    print(json.dumps({"summary": "worst median", "ms": worst, "limit_ms": LIMIT_MS, "ok": worst <= LIMIT_MS}))


if __name__ == "__main__":
    main()
