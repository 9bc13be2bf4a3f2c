"""Benchmark the whole sending pipeline against plain smtplib, on the same machine and the same sink.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/congvan REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/send_pipeline.py --recipients 100000

Issues a dispatch to N organisations with real PostgreSQL (a fresh `<db>_bench` database), Redis, two worker
processes (each running two threads by default; `--pool prefork` for one pool process each) and an aiosmtpd sink in its own process that counts messages per address. Measures the fan-out time,
the time until all N are handed to SMTP, messages per second and the workers' peak RSS. Then, in the same run,
the baseline: one process per core sending the same pre-built message bytes with smtplib over one reused
connection to a fresh sink. Prints one JSON line.

Besides throughput it prints the CPU time per message, read from /proc (utime + stime, children included), since
CPU time barely moves when the machine is busy: of the pipeline's workers (their whole process trees), its
PostgreSQL backends (those connected to the benchmark database, sampled every half second so a backend that
ends is still counted up to its last sample), Redis (the server is shared: other users of it add to this
figure) and its sink; and of the baseline's senders and sink. The load average is taken before the start.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import smtplib
import tempfile
import threading
import time
from pathlib import Path

import _support as support

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, with_children: bool = True) -> float:
    """Return the CPU time (user + system) of a process and, by default, of every descendant, from /proc.

    A descendant that has ended and was waited for is in its parent's cutime/cstime; a live one is read itself.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    own = sum(int(value) for value in fields[11 : 15 if with_children else 13]) / TICK  # utime stime cutime cstime
    return own + (sum(cpu_seconds(child) for child in support.children(pid)) if with_children else 0.0)


class CpuWatch(threading.Thread):
    """Sample, every half second, the CPU time of the benchmark database's PostgreSQL backends."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database, self.first, self.last, self.stop = database, {}, {}, threading.Event()

    def sample(self) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
            ).fetchall()
        for (pid,) in rows:
            seconds = cpu_seconds(pid, with_children=False)
            self.first.setdefault(pid, seconds if self.started else 0.0)
            self.last[pid] = seconds

    def url(self) -> str:
        from django.conf import settings

        db = settings.DATABASES["default"]
        return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

    def run(self) -> None:
        self.started = False
        self.sample()
        self.started = True
        while not self.stop.wait(0.5):
            self.sample()

    def seconds(self) -> float:
        """Return the CPU time the backends spent since the watch began."""
        self.sample()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def redis_pid(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("server")["process_id"])


def per_message_ms(seconds: float, n: int) -> float:
    return round(seconds * 1000 / n, 3)


def baseline_sender(port: int, data: bytes, sender: str, addresses: list[str]) -> None:
    """Send the same bytes to each address over one connection."""
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for to in addresses:
            connection.sendmail(sender, [to], data)


def run_baseline(workdir: Path, data: bytes, sender: str, n: int, processes: int) -> tuple[float, dict]:
    """Return the messages per second of `processes` smtplib senders sharing N messages, and their CPU per message."""
    sink = support.Sink(workdir)
    shares = [[support.address(i) for i in range(k, n, processes)] for k in range(processes)]
    children_before = sum(os.times()[2:4])
    sink_before = cpu_seconds(sink.process.pid)
    started = time.monotonic()
    workers = [
        multiprocessing.Process(target=baseline_sender, args=(sink.port, data, sender, share)) for share in shares
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    senders = sum(os.times()[2:4]) - children_before  # the joined senders, and nothing else ended meanwhile
    time.sleep(1.5)  # the sink writes its counts every second
    sink_cpu = cpu_seconds(sink.process.pid) - sink_before
    counts = sink.stop()
    assert sum(counts.values()) == n, f"baseline lost messages: {sum(counts.values())} of {n}"
    cpu = {"sender": per_message_ms(senders, n), "sink": per_message_ms(sink_cpu, n)}
    cpu["total"] = round(cpu["sender"] + cpu["sink"], 3)
    return n / elapsed, cpu


def measure_pipeline(draft, clerk, workers, n: int, sink, redis_url: str) -> tuple[float, float, float, dict]:
    """Issue the dispatch; return the fan-out time, the time until all N are handed to SMTP, the peak RSS and the
    CPU per message of the pipeline's processes."""
    from django.conf import settings

    from notices import issuing
    from notices.models import Dispatch

    watch = support.RssWatch(workers)
    watch.start()
    time.sleep(3)  # let the workers connect before the clock starts
    database = CpuWatch(settings.DATABASES["default"]["NAME"])
    database.start()
    redis = redis_pid(redis_url)
    before = {"workers": sum(cpu_seconds(w.pid) for w in workers), "redis": cpu_seconds(redis),
              "sink": cpu_seconds(sink.process.pid)}  # fmt: skip
    issuing.issue(draft, clerk)
    started = time.time()  # the issuing transaction has committed: the fan-out is queued
    fanout_s = None
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        time.sleep(0.25)
        dispatch = Dispatch.objects.get(pk=draft.pk)
        if fanout_s is None and dispatch.fanned_out_at:
            fanout_s = dispatch.fanned_out_at.timestamp() - started
        done = support.counts_by_status(draft.pk)
        if done.get("sent", 0) + done.get("failed", 0) >= n:
            break
    send_s = time.time() - started
    watch.stop.set()
    database.stop.set()
    seconds = {"workers": sum(cpu_seconds(w.pid) for w in workers) - before["workers"],
               "postgres": database.seconds(), "redis": cpu_seconds(redis) - before["redis"],
               "sink": cpu_seconds(sink.process.pid) - before["sink"]}  # fmt: skip
    cpu = {name: per_message_ms(value, n) for name, value in seconds.items()}
    # Both totals count the sink, so cpu_ratio compares the whole cost of getting a message into it, side by side.
    cpu["total"] = round(cpu["workers"] + cpu["postgres"] + cpu["redis"] + cpu["sink"], 3)
    return fanout_s, send_s, watch.peak, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--pool",
        default="threads",
        help="Celery pool of each worker process: threads (--threads send loops in it, the default: sending "
        "waits on the mail server) or prefork (one pool process)",
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    n = args.recipients
    workdir = Path(tempfile.mkdtemp(prefix="bench-send-"))
    env = support.sending_env(workdir)
    draft, clerk = support.seed(n)
    load_before = support.load_average()

    sink = support.Sink(workdir)
    env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
    concurrency = args.threads if args.pool == "threads" else 1
    workers = [support.start_worker(env, f"bench{i}", args.pool, concurrency) for i in range(args.workers)]
    try:
        fanout_s, send_s, peak, pipeline_cpu = measure_pipeline(draft, clerk, workers, n, sink, env["REDIS_URL"])
    finally:
        support.stop_all(workers)
        counts = sink.stop()
    load_after = support.load_average()

    from notices import mail
    from notices.models import DeliveryKind, Dispatch

    letter = mail.letter_for(Dispatch.objects.get(pk=draft.pk), DeliveryKind.DISPATCH)
    recipient = mail.Recipient(support.address(0), "baseline@bhxh.example.vn", "Công ty TNHH",
                               {"acknowledge": "https://x/xac-nhan/1/"})  # fmt: skip
    data = letter.as_bytes(recipient)
    baseline, baseline_cpu = run_baseline(workdir, data, letter.envelope_from, n, os.cpu_count() or 2)
    expected = {support.address(i) for i in range(n)}
    msgs_per_s = n / send_s
    print(json.dumps({
        "recipients": n,
        "workers": f"{args.workers} x {args.pool}" + (f" ({concurrency} threads)" if args.pool == "threads" else ""),
        "fanout_s": round(fanout_s, 2),
        "send_s": round(send_s, 2),
        "msgs_per_s": round(msgs_per_s, 1),
        "baseline_msgs_per_s": round(baseline, 1),
        "ratio": round(msgs_per_s / baseline, 3),
        "worker_peak_rss_mb": round(peak, 1),
        "cpu_ms_per_msg": {"pipeline": pipeline_cpu, "baseline": baseline_cpu},
        "cpu_ratio": round(baseline_cpu["total"] / pipeline_cpu["total"], 3) if pipeline_cpu["total"] else None,
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "missing": len(expected - set(counts)),
        "message_bytes": len(data),
        "load_avg_before": load_before,
        "load_avg_after": load_after,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
