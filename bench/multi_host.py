"""Issue through a web host over HTTP, send from two worker hosts, and cut one worker host's link mid-send.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/congvan REDIS_URL=redis://127.0.0.1:6379/10 \\
        sudo .venv/bin/python bench/multi_host.py --recipients 20000

Needs root: tests/netns.py makes three hosts with network namespaces on a private /24 of this machine. Host A
runs the web tier (gunicorn) and the one Celery beat (the sweeper, every SEND_SWEEP_INTERVAL_SECONDS); hosts B
and C each run a Celery worker. Every host has its own working directory and reaches PostgreSQL, Redis, moto's
S3 server and the aiosmtpd sink (all on 127.0.0.1 of the machine) through forwarders on the bridge, so a worker
gets the dispatch PDF from the bucket, never from a disk it shares with the web tier.

The benchmark logs in to host A over HTTP as the clerk (`log_in`, the one place a login step lives), presses
"issue" through the admin's confirmation page, and once --cut-at of the recipients have reached the sink it takes
host B's link down for --cut seconds, then brings it back. The sweeper returns the rows B had claimed after
--stuck seconds (SEND_STUCK_SECONDS), so C sends them while B is gone. One JSON line: recipients, delivered_unique,
duplicates, missing, in_flight_on_cut_host (the rows the sweeper took back from B: at most these can be sent
twice), send_s, msgs_per_s_during_cut, the load average before the start. Target: missing 0 and duplicates no
more than in_flight_on_cut_host. It exits non-zero when sending has not finished by --deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import _support as support
import requests

from tests import netns
from tests.s3_server import S3Server

WEB_PORT = 8000
SECOND_STEP = "/admin/xac-thuc-hai-buoc/"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def log_in(base_url: str, username: str, password: str, code=lambda: "") -> requests.Session:
    """Return a session logged in to the admin over HTTP; raise when the login page does not let us in.

    The only place the benchmark logs in: a second factor, when the admin asks for one, is answered here.
    """
    session = requests.Session()
    form = session.get(f"{base_url}/admin/login/", timeout=30)
    form.raise_for_status()
    answer = session.post(
        f"{base_url}/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(form.text),
              "next": "/admin/"},
        timeout=30,
    )  # fmt: skip
    if "sessionid" not in session.cookies or "/admin/login/" in answer.url:
        raise RuntimeError(f"the login as {username} was refused (HTTP {answer.status_code})")
    if SECOND_STEP in answer.url:  # the clerk's role needs a second factor: the code of their authenticator app
        answer = session.post(
            answer.url, data={"token": code(), "csrfmiddlewaretoken": csrf_token(answer.text), "next": "/admin/"},
            timeout=30,
        )  # fmt: skip
        if SECOND_STEP in answer.url:
            raise RuntimeError(f"the second factor of {username} was refused (HTTP {answer.status_code})")
    return session


def csrf_token(page: str) -> str:
    match = CSRF_FIELD.search(page)
    if not match:
        raise RuntimeError("the page has no CSRF token")
    return match.group(1)


def issue_over_http(session: requests.Session, base_url: str, dispatch_id: int) -> None:
    """Open the issue confirmation page and confirm it, as the clerk does in the admin."""
    url = f"{base_url}/admin/notices/dispatch/{dispatch_id}/workflow/issue/"
    confirmation = session.get(url, timeout=120)
    confirmation.raise_for_status()
    done = session.post(url, data={"csrfmiddlewaretoken": csrf_token(confirmation.text)}, timeout=600)
    done.raise_for_status()


def through(url: str, host: str, port: int) -> str:
    """Return `url` with its host and port replaced (a service seen through its forwarder)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials + '@' if credentials else ''}{host}:{port}"))


def port_of(url: str, default: int) -> int:
    return urlsplit(url).port or default


class Hosts:
    """The three hosts, their processes and the forwarded services."""

    def __init__(self, net: netns.Network, env: dict[str, str], s3: S3Server, sink: support.Sink, workers: int):
        self.net, self.workers = net, workers
        gateway = net.gateway
        self.env = {
            **env, **s3.environment(),
            "DATABASE_URL": through(env["DATABASE_URL"], gateway, net.forward(port_of(env["DATABASE_URL"], 5432))),
            "REDIS_URL": through(env["REDIS_URL"], gateway, net.forward(port_of(env["REDIS_URL"], 6379))),
            "AWS_S3_ENDPOINT_URL": f"http://{gateway}:{net.forward(s3.port)}",
            "EMAIL_HOST": gateway, "EMAIL_PORT": str(net.forward(sink.port)),
            "ALLOWED_HOSTS": net.hosts["a"].address, "PYTHONPATH": str(support.ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }  # fmt: skip
        self.base_url = f"http://{net.hosts['a'].address}:{WEB_PORT}"

    def host_env(self, name: str) -> dict[str, str]:
        """Return the environment of a process on host `name`: its own working directory for everything local."""
        workdir = self.net.hosts[name].workdir
        return {**os.environ, **self.env, "VAR_DIR": str(workdir), "MEDIA_ROOT": str(workdir / "media")}

    def start(self) -> None:
        python = sys.executable
        self.net.spawn("a", [python, "-m", "gunicorn", "config.wsgi:application", "--bind",
                             f"{self.net.hosts['a'].address}:{WEB_PORT}", "--workers", "2", "--timeout", "600",
                             "--log-level", "warning"], env=self.host_env("a"), stdout=sys.stderr)  # fmt: skip
        self.net.spawn("a", [python, "-m", "celery", "-A", "config", "beat", "-l", "ERROR",
                             "-s", str(self.net.hosts["a"].workdir / "beat-schedule")],
                       env=self.host_env("a"), stdout=sys.stderr)  # fmt: skip
        for name in ("b", "c"):
            self.net.spawn(name, [python, "-m", "celery", "-A", "config", "worker", "-P", "threads",
                                  "-c", str(self.workers), "-Q", support.QUEUES, "-n", f"multihost-{name}@%h",
                                  "--without-gossip", "--without-mingle", "-l", "ERROR"],
                           env=self.host_env(name), stdout=sys.stderr)  # fmt: skip
        wait_for_web(self.base_url)


def wait_for_web(base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/admin/login/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the web host does not answer at {base_url}")


def requeued_from_cut_host(dispatch_id: int, since) -> int:
    """Return how many of the dispatch's deliveries the sweeper took back (stuck in `sending`) since `since`."""
    from notices.models import DeliveryEvent

    events = DeliveryEvent.objects.filter(delivery__dispatch_id=dispatch_id, detail="requeued by the sweeper",
                                          at__gte=since)  # fmt: skip
    return events.values("delivery_id").distinct().count()


def finished(dispatch_id: int, n: int) -> bool:
    counts = support.counts_by_status(dispatch_id)
    return counts.get("sent", 0) + counts.get("failed", 0) >= n


def delivered(sink: support.Sink) -> int:
    return sum(sink.counts().values())


def run(hosts: Hosts, sink: support.Sink, draft, clerk, n: int, args) -> dict:
    """Issue over HTTP, cut host B once --cut-at of N reached the sink, restore it; return the timings."""
    from tests import second_factor  # needs Django set up (django-otp's models)

    app = second_factor.authenticator(clerk)  # the clerk's authenticator app (a confirmed TOTP device)
    session = log_in(hosts.base_url, clerk.username, "x", code=lambda: second_factor.current_code(app))
    issue_over_http(session, hosts.base_url, draft.pk)
    started = time.monotonic()
    deadline = started + (args.deadline or 300 + n / 5 + args.cut)
    cut: Cut | None = None
    while not finished(draft.pk, n):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not finished after {deadline - started:.0f} s")
        if cut is None and delivered(sink) >= args.cut_at * n:
            cut = Cut(hosts.net, sink, started)
        if cut is not None and not cut.over and cut.lasted() >= args.cut:
            cut.end()
        time.sleep(0.2)
    timings = {"send_s": round(time.monotonic() - started, 1)}
    cut = cut or Cut(hosts.net, sink, started)  # too few recipients to reach --cut-at: cut at the end
    if not cut.over:  # sending ended while B was cut off: C's rate is over the time until the end
        time.sleep(1.2)  # the sink writes its counts every second
        cut.end(sending_ended=started + timings["send_s"], wait=max(0.0, args.cut - cut.lasted()))
    time.sleep(args.settle)  # host B is back: let whatever it still held reach the sink before counting
    return {**timings, **cut.timings(), "in_flight_on_cut_host": requeued_from_cut_host(draft.pk, cut.wall)}


class Cut:
    """Host B's link, cut now: what reached the sink while it was down, and for how long."""

    def __init__(self, net: netns.Network, sink: support.Sink, started: float) -> None:
        from django.utils import timezone

        self.net, self.sink, self.started = net, sink, started
        self.at, self.wall, self.before = time.monotonic(), timezone.now(), delivered(sink)
        net.cut("b")
        self.over, self.during, self.seconds = False, 0, 0.0

    def lasted(self) -> float:
        return time.monotonic() - self.at

    def end(self, sending_ended: float | None = None, wait: float = 0.0) -> None:
        """Count what reached the sink since the cut, then (after `wait` more seconds) restore the link."""
        self.during = delivered(self.sink) - self.before
        self.seconds = (sending_ended or time.monotonic()) - self.at
        time.sleep(wait)
        self.net.restore("b")
        self.over = True

    def timings(self) -> dict:
        return {"cut_after_s": round(self.at - self.started, 1), "delivered_during_cut": self.during,
                "msgs_per_s_during_cut": round(self.during / max(self.seconds, 0.001), 1)}  # fmt: skip


def attachments_equal(saved: Path, stored: list[bytes]) -> dict:
    """Return how many saved messages carry a PDF, and how many of those PDFs are byte for byte in the bucket."""
    import email
    import email.policy

    pdfs = []
    for path in saved.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        pdfs += [
            part.get_content() for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
        ]
    return {"messages_with_pdf": len(pdfs), "pdfs_equal_to_bucket": sum(pdf in stored for pdf in pdfs)}


def pdf_files(root: Path) -> list[str]:
    return sorted(str(path) for path in root.rglob("*.pdf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--cut", type=float, default=90.0, help="seconds host B's link stays down")
    parser.add_argument("--cut-at", type=float, default=0.2, help="share of N delivered when the link is cut")
    parser.add_argument("--stuck", type=float, default=15.0, help="SEND_STUCK_SECONDS: when the sweeper takes back")
    parser.add_argument("--workers", type=int, default=2, help="threads of each worker host's Celery worker")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait after the restore")
    parser.add_argument(
        "--check-attachments",
        action="store_true",
        help="keep every message and compare its PDF with the one in the bucket",
    )
    parser.add_argument("--deadline", type=float, default=0, help="seconds to give up after (default 300 + n/5 + cut)")
    args = parser.parse_args()
    reason = netns.unavailable_reason()
    if reason:
        sys.exit(f"multi_host: network namespaces cannot be made here: {reason}")
    n = args.recipients
    workdir = Path(tempfile.mkdtemp(prefix="bench-multihost-"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
    support.flush_redis(redis_url)
    env = {"DATABASE_URL": support.bench_database_url(support.default_database_url(), "multihost_bench"),
           "REDIS_URL": redis_url, "VAR_DIR": str(workdir / "bench"), "LOG_LEVEL": "ERROR", "DEBUG": "True",
           "EMAIL_DELIVERY": "smtp", "SEND_RATE_PER_SECOND": "1000000", "SEND_RATE_BURST": "100000",
           "SEND_RATE_TAKE": "50", "SEND_SWEEP_INTERVAL_SECONDS": "2", "SEND_STUCK_SECONDS": str(args.stuck),
           "SEND_RETRY_BASE_SECONDS": "0.5", "SEND_RETRY_MAX_SECONDS": "5", "SEND_MAX_ATTEMPTS": "25",
           "SEND_MAX_COUNTDOWN_SECONDS": "5", "EMAIL_TIMEOUT": "10"}  # fmt: skip
    support.setup_django(env)
    draft, clerk = support.seed(n)
    load_before = support.load_average()
    outcome, timings = "", {}
    with S3Server(bucket="congvan-multihost") as s3, netns.Network(["a", "b", "c"], workdir / "hosts") as net:
        saved = workdir / "messages" if args.check_attachments else None
        if saved:
            saved.mkdir()
        sink = support.Sink(workdir, save_dir=saved)
        try:
            hosts = Hosts(net, env, s3, sink, args.workers)
            hosts.start()
            timings = run(hosts, sink, draft, clerk, n, args)
        except (TimeoutError, RuntimeError, requests.RequestException) as exc:
            outcome = str(exc)
        finally:
            net.stop_processes()
            counts = sink.stop()
        stored = [key for key in s3.keys() if key.endswith(".pdf")]
        checked = attachments_equal(saved, [s3.read(key) for key in stored]) if saved else {}
    expected = {support.address(i) for i in range(n)}
    reached = expected & set(counts)
    print(json.dumps({
        "recipients": n,
        "delivered_unique": len(reached),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "missing": len(expected - reached),
        "in_flight_on_cut_host": timings.get("in_flight_on_cut_host", 0),
        "send_s": timings.get("send_s"),
        "msgs_per_s_during_cut": timings.get("msgs_per_s_during_cut"),
        "delivered_during_cut": timings.get("delivered_during_cut"),
        "cut_s": args.cut,
        "cut_after_s": timings.get("cut_after_s"),
        "failed": support.counts_by_status(draft.pk).get("failed", 0),
        "pdfs_in_bucket": len(stored),
        "pdfs_on_worker_hosts": len(pdf_files(workdir / "hosts" / "b") + pdf_files(workdir / "hosts" / "c")),
        **checked,
        "load_avg_before": load_before,
        "load_avg_after": support.load_average(),
        **({"abandoned": outcome, "by_status": support.counts_by_status(draft.pk)} if outcome else {}),
    }))  # fmt: skip
    if outcome:
        sys.exit(f"multi_host: {outcome}")


if __name__ == "__main__":
    main()
