"""Send N messages while things break: two workers killed with SIGKILL, Redis restarted, 30% transient 451s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/congvan .venv/bin/python bench/fault_injection.py --recipients 10000

Runs its own redis-server on a free port of 127.0.0.1 (never the shared one), with no persistence, so the restart
loses every queued task; two Celery workers (one pool process each) and Celery beat running the sweeper;
and an aiosmtpd sink in its own process that answers 30% of RCPTs with "451" and counts accepted messages
per address. Kills a worker's pool process at 25% and 75% of the messages sent and restarts Redis at 50%.
Prints one JSON line; the target is missing 0 and duplicates no more than the messages in flight at the kills.
It exits non-zero, with what it saw, when a worker's main process dies (only its pool processes are killed, so
a dead main process is a bug: Celery must survive a Redis restart) or when sending has not finished by --deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _support as support


class OwnRedis:
    """A redis-server of this benchmark alone, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, support.free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
        )  # fmt: skip
        support.wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def restart(self) -> None:
        self.stop()
        self.start()


def sent_count(dispatch_id: int) -> int:
    counts = support.counts_by_status(dispatch_id)
    return counts.get("sent", 0) + counts.get("failed", 0)


def in_flight(dispatch_id: int) -> int:
    """Return how many deliveries are claimed right now (at most these can be sent twice by a kill)."""
    return support.counts_by_status(dispatch_id).get("sending", 0)


def kill_pool_process(worker: subprocess.Popen) -> None:
    """SIGKILL the pool process of a worker (its main process starts a new one)."""
    for pid in support.children(worker.pid):
        os.kill(pid, signal.SIGKILL)


class Abandoned(Exception):
    """The run cannot finish: a worker died or the deadline passed."""


def run(draft, clerk, n: int, workers, redis: OwnRedis, deadline_s: float) -> tuple[int, dict]:
    """Issue the dispatch, inject the faults as sending progresses; return the max in flight and the timings."""
    from notices import issuing

    time.sleep(3)
    issuing.issue(draft, clerk)
    faults = [(0.25, lambda: kill_pool_process(workers[0])), (0.5, redis.restart),
              (0.75, lambda: kill_pool_process(workers[1]))]  # fmt: skip
    max_in_flight, started, log = 0, time.monotonic(), {}
    deadline = started + deadline_s
    while True:
        dead = [f"faults{i} exited with {w.returncode}" for i, w in enumerate(workers) if w.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise Abandoned(", ".join(dead) or f"not finished after {deadline_s:.0f} s")
        done = sent_count(draft.pk)
        if faults and done >= faults[0][0] * n:
            share, fault = faults.pop(0)
            max_in_flight = max(max_in_flight, in_flight(draft.pk))
            fault()
            log[f"fault_at_{share}"] = round(time.monotonic() - started, 1)
        if done >= n:
            break
        time.sleep(0.2)
    log["send_s"] = round(time.monotonic() - started, 1)
    time.sleep(3)  # let a straggling duplicate reach the sink before counting
    return max_in_flight, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--deadline", type=float, default=0, help="seconds to give up after (default 120 + n/10)")
    args = parser.parse_args()
    n = args.recipients
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    redis = OwnRedis(workdir)
    redis.start()
    redis_url = f"redis://127.0.0.1:{redis.port}/0"
    database_url = support.bench_database_url(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/congvan"), "faults"
    )
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "VAR_DIR": str(workdir), "LOG_LEVEL": "ERROR",
           "EMAIL_DELIVERY": "smtp", "SEND_RATE_PER_SECOND": "1000000", "SEND_RATE_BURST": "100000",
           "SEND_RATE_TAKE": "50", "SEND_SWEEP_INTERVAL_SECONDS": "2", "SEND_STUCK_SECONDS": "8",
           "SEND_RETRY_BASE_SECONDS": "0.2", "SEND_RETRY_MAX_SECONDS": "5", "SEND_MAX_ATTEMPTS": "25", "SEND_MAX_COUNTDOWN_SECONDS": "5",
           "DEBUG": "True"}  # fmt: skip
    support.setup_django(env)
    draft, clerk = support.seed(n)
    load_before = support.load_average()
    sink = support.Sink(workdir, transient_rate=0.3)
    env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
    workers = [support.start_worker(env, f"faults{i}") for i in range(2)]
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(workdir / "beat-schedule"), "-l", "ERROR"],
        cwd=support.ROOT, env={**os.environ, **env}, stdout=sys.stderr,  # stdout is the JSON line
    )  # fmt: skip
    outcome = ""
    try:
        max_in_flight, timings = run(draft, clerk, n, workers, redis, args.deadline or 120 + n / 10)
    except Abandoned as exc:
        outcome, max_in_flight, timings = str(exc), 0, {}
    finally:
        support.stop_all([*workers, beat])
        counts = sink.stop()
        redis.stop()
    expected = {support.address(i) for i in range(n)}
    delivered = expected & set(counts)
    print(json.dumps({
        "recipients": n,
        "delivered_unique": len(delivered),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "missing": len(expected - delivered),
        "max_in_flight": max_in_flight,
        "failed": support.counts_by_status(draft.pk).get("failed", 0),
        **timings,
        "load_avg_before": load_before,
        "load_avg_after": support.load_average(),
        **({"abandoned": outcome, "by_status": support.counts_by_status(draft.pk)} if outcome else {}),
    }))  # fmt: skip
    if outcome:
        sys.exit(f"fault_injection: {outcome}")


if __name__ == "__main__":
    main()
