"""Benchmark the whole sending pipeline against plain smtplib, on the same machine and the same sink.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/congvan REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/send_pipeline.py --recipients 100000

Issues a dispatch to N organisations with real PostgreSQL (a fresh `<db>_bench` database), Redis, two worker
processes (each running two threads by default; `--pool prefork` for one pool process each) and an aiosmtpd sink in its own process that counts messages per address. Measures the fan-out time,
the time until all N are handed to SMTP, messages per second and the workers' peak RSS. Then, in the same run,
the baseline: one process per core sending the same pre-built message bytes with smtplib over one reused
connection to a fresh sink. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import smtplib
import tempfile
import time
from pathlib import Path

import _support as support


def baseline_sender(port: int, data: bytes, sender: str, addresses: list[str]) -> None:
    """Send the same bytes to each address over one connection."""
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for to in addresses:
            connection.sendmail(sender, [to], data)


def run_baseline(workdir: Path, data: bytes, sender: str, n: int, processes: int) -> float:
    """Return the messages per second of `processes` smtplib senders sharing N messages."""
    sink = support.Sink(workdir)
    shares = [[support.address(i) for i in range(k, n, processes)] for k in range(processes)]
    started = time.monotonic()
    workers = [
        multiprocessing.Process(target=baseline_sender, args=(sink.port, data, sender, share)) for share in shares
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    counts = sink.stop()
    assert sum(counts.values()) == n, f"baseline lost messages: {sum(counts.values())} of {n}"
    return n / elapsed


def measure_pipeline(draft, clerk, workers, n: int) -> tuple[float, float, float]:
    """Issue the dispatch; return the fan-out time, the time until all N are handed to SMTP, and the peak RSS."""
    from notices import issuing, sending
    from notices.models import Dispatch

    watch = support.RssWatch(workers)
    watch.start()
    time.sleep(3)  # let the workers connect before the clock starts
    started = {}
    original_start = sending.start
    sending.start = lambda dispatch_id: started.setdefault("t", time.time()) and original_start(dispatch_id)
    issuing.issue(draft, clerk)
    fanout_s = None
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        time.sleep(0.25)
        dispatch = Dispatch.objects.get(pk=draft.pk)
        if fanout_s is None and dispatch.fanned_out_at:
            fanout_s = dispatch.fanned_out_at.timestamp() - started["t"]
        done = support.counts_by_status(draft.pk)
        if done.get("sent", 0) + done.get("failed", 0) >= n:
            break
    send_s = time.time() - started["t"]
    watch.stop.set()
    return fanout_s, send_s, watch.peak


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
    database_url = support.bench_database_url(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/congvan")
    )
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
    support.flush_redis(redis_url)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "VAR_DIR": str(workdir), "LOG_LEVEL": "WARNING",
           "EMAIL_DELIVERY": "smtp", "SEND_RATE_PER_SECOND": "1000000", "SEND_RATE_BURST": "100000",
           "SEND_RATE_TAKE": "50", "DEBUG": "True"}  # fmt: skip
    support.setup_django(env)
    draft, clerk = support.seed(n)
    load_before = support.load_average()

    sink = support.Sink(workdir)
    env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
    concurrency = args.threads if args.pool == "threads" else 1
    workers = [support.start_worker(env, f"bench{i}", args.pool, concurrency) for i in range(args.workers)]
    try:
        fanout_s, send_s, peak = measure_pipeline(draft, clerk, workers, n)
    finally:
        support.stop_all(workers)
        counts = sink.stop()
    load_after = support.load_average()

    from notices import mail

    shared = mail.for_dispatch(draft.pk)
    data = shared.as_bytes(support.address(0), "baseline@bhxh.example.vn", "Công ty TNHH", "https://x/xac-nhan/1/")
    baseline = run_baseline(workdir, data, shared.envelope_from, n, os.cpu_count() or 2)
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
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "missing": len(expected - set(counts)),
        "message_bytes": len(data),
        "load_avg_before": load_before,
        "load_avg_after": load_after,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
