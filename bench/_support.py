"""What the sending benchmarks share: a fresh database, N organisations, the sink, workers and their memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
QUEUES = "send-urgent,render,events,send,celery"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the benchmarks run as scripts from bench/: the project's packages too


def bench_database_url(base: str, suffix: str = "bench") -> str:
    """Create (afresh) the benchmark database next to the one in `base`; return its URL.

    BENCH_TEMPLATE_DATABASE names a migrated database to copy instead of migrating from nothing (the smoke test
    uses its test database: migrating takes longer than a tiny benchmark).
    """
    import psycopg

    parts = urlsplit(base)
    name = parts.path.lstrip("/") + "_" + suffix
    admin = urlunsplit(parts._replace(path="/postgres"))
    template = os.environ.get("BENCH_TEMPLATE_DATABASE")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return urlunsplit(parts._replace(path=f"/{name}"))


def sending_env(workdir: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a sending benchmark: a fresh database, a flushed Redis, SMTP with no rate limit.

    Django is set up on it in this process; the workers get the same environment.
    """
    database_url = bench_database_url(default_database_url())
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
    flush_redis(redis_url)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "VAR_DIR": str(workdir), "LOG_LEVEL": "WARNING",
           "EMAIL_DELIVERY": "smtp", "SEND_RATE_PER_SECOND": "1000000", "SEND_RATE_BURST": "100000",
           "SEND_RATE_TAKE": "50", "DEBUG": "True", **extra}  # fmt: skip
    setup_django(env)
    return env


def default_database_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/congvan")


def setup_django(env: dict[str, str], migrate: bool = True) -> None:
    """Point this process at the benchmark database and start Django (and migrate it, unless told not to)."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0)


def seed(n: int, prepare=None):
    """Create the issuer's data, the staff and a group of `n` organisations with one address each.

    Return the dispatch, written, submitted and approved through the workflow, and the clerk who will issue it.
    """
    from django.contrib.auth import get_user_model

    from notices import roles
    from notices.models import Dispatch, DraftingUnit, Issuer, Signer
    from recipients.models import Organization, OrganizationEmail, RecipientGroup

    issuer = Issuer.objects.create(
        parent_body="BẢO HIỂM XÃ HỘI VIỆT NAM", name="BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI", abbreviation="BHXH"
    )
    unit = DraftingUnit.objects.create(issuer=issuer, name="Phòng Quản lý thu", abbreviation="QLT")
    signer = Signer.objects.create(issuer=issuer, full_name="Nguyễn Văn Minh", authority="KT. GIÁM ĐỐC",
                                   position="PHÓ GIÁM ĐỐC")  # fmt: skip
    groups = roles.ensure_roles()
    staff = {}
    for role in (roles.DRAFTER, roles.APPROVER, roles.CLERK):
        user = get_user_model().objects.create_user(f"bench-{len(staff)}", "", "x", is_staff=True)
        user.groups.add(groups[role])
        staff[role] = user
    clerk = staff[roles.CLERK]
    group = RecipientGroup.objects.create(name="Đơn vị sử dụng lao động", label="Các đơn vị sử dụng lao động")
    step = 10000
    for start in range(0, n, step):
        orgs = Organization.objects.bulk_create(
            Organization(name=f"Công ty TNHH Thương mại số {i:06d}", kind="employer", level="city")
            for i in range(start, min(n, start + step))
        )
        OrganizationEmail.objects.bulk_create(
            OrganizationEmail(organization=org, address=address(start + k), primary=True) for k, org in enumerate(orgs)
        )
        group.members.through.objects.bulk_create(
            group.members.through(recipientgroup_id=group.pk, organization_id=org.pk) for org in orgs
        )
    draft = Dispatch.objects.create(
        issuer=issuer, drafting_unit=unit, signer=signer, subject="hướng dẫn đóng BHXH, BHYT, BHTN năm 2026",
        body="<p>" + "Bảo hiểm xã hội thành phố Hà Nội đề nghị các đơn vị thực hiện đúng quy định. " * 40 + "./.</p>",
        created_by=staff[roles.DRAFTER],
    )  # fmt: skip
    draft.groups.add(group)
    if prepare is not None:  # e.g. make it personalised and attach its merge data, as its drafter
        prepare(draft, staff[roles.DRAFTER])
    draft.submit(staff[roles.DRAFTER])
    draft.approve(staff[roles.APPROVER])
    return draft, clerk


def address(i: int) -> str:
    return f"donvi{i:06d}@employer.example.vn"


class Sink:
    """The aiosmtpd sink in its own process, counting messages per address."""

    def __init__(self, workdir: Path, transient_rate: float = 0.0, save_dir: Path | None = None) -> None:
        self.port = free_port()
        self.counts_path = workdir / f"counts-{self.port}.json"
        save = ["--save", str(save_dir)] if save_dir else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.smtp_sink", "--port", str(self.port), "--counts", str(self.counts_path),
             "--transient-rate", str(transient_rate), *save],
            cwd=ROOT,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> dict[str, int]:
        """Stop the sink and return its counts per address."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return json.loads(self.counts_path.read_text())

    def counts(self) -> dict[str, int]:
        try:
            return json.loads(self.counts_path.read_text())
        except (OSError, ValueError):
            return {}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now (the tests' helper)."""
    from tests.smtp_sink import free_port as free

    return free()


def wait_for_port(port: int, timeout: float = 20) -> None:
    """Wait until something listens on 127.0.0.1:`port`."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_worker(env: dict[str, str], name: str, pool: str = "prefork", concurrency: int = 1) -> subprocess.Popen:
    """Start one Celery worker with the benchmark's environment (by default one prefork pool process).

    Its banner goes to stderr: a benchmark's stdout is its JSON lines.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", pool, "-c", str(concurrency), "-Q", QUEUES,
         "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env={**os.environ, **env}, stdout=sys.stderr,
    )  # fmt: skip


def children(pid: int) -> list[int]:
    """Return the ids of the direct children of a process."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def peak_rss_mb(pid: int) -> float:
    """Return the peak resident memory (VmHWM) of a process in MB, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssWatch(threading.Thread):
    """Sample the peak RSS of every process of the workers (main and pool processes) each half second."""

    def __init__(self, workers: list[subprocess.Popen]) -> None:
        super().__init__(daemon=True)
        self.workers, self.peak, self.stop = workers, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for worker in list(self.workers):
                for pid in [worker.pid, *children(worker.pid)]:
                    self.peak = max(self.peak, peak_rss_mb(pid))


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Stop processes we started: SIGTERM, then SIGKILL after a grace period."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def counts_by_status(dispatch_id: int) -> dict[str, int]:
    from django.db.models import Count

    from notices.models import Delivery

    rows = Delivery.objects.filter(dispatch_id=dispatch_id).values_list("status").annotate(n=Count("pk")).order_by()
    return dict(rows)


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
