"""Separate hosts on this machine, made with network namespaces, for the multi-host tests and benchmark.

    with Network(["a", "b", "c"], workdir) as net:
        redis_port = net.forward(6379)          # the service on 127.0.0.1:6379, reachable at net.gateway:redis_port
        worker = net.spawn("b", ["celery", ...], env=...)
        net.cut("b"); ...; net.restore("b")

Needs root and `ip` (iproute2). `Network.start` picks a private /24 that no address or route of this machine
(nor of any namespace on it) overlaps, makes a bridge holding the /24's first address, and for each host a
namespace joined to the bridge by a veth pair, with the next address and its own working directory under
`workdir` (no directory is shared: a worker gets every stored file from the S3 server). The services listen on
127.0.0.1 only, so `forward` starts one `tests/forwarder.py` per service on the bridge address.

Every namespace, link and address it makes is written down, and it refuses (`NotOurs`) to touch anything else.
`close` (also run at exit, on SIGTERM and SIGHUP, and by the context manager) stops every process it started,
by process group, then deletes what it made; it is safe to call twice.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Private /24s tried in turn; the first that overlaps nothing on this machine is used.
CANDIDATES = [ipaddress.ip_network(f"10.213.{i}.0/24") for i in range(1, 255)]
NAMESPACE_PREFIX = "congvan-"


class NotOurs(Exception):
    """The harness was asked to touch a namespace, link, address or host it did not make."""


class Unavailable(Exception):
    """Network namespaces cannot be made here (not root, no iproute2, or the kernel refuses)."""


def ip(*args: str, namespace: str | None = None, check: bool = True) -> str:
    """Run `ip ARGS` (inside `namespace` if given) and return its output."""
    command = ["ip", *(["-n", namespace] if namespace else []), *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, command, result.stdout, result.stderr)
    return result.stdout


def namespaces() -> list[str]:
    """Return the names of the network namespaces on this machine."""
    return [entry["name"] for entry in json.loads(ip("-j", "netns", "list") or "[]")]


def links() -> list[str]:
    """Return the names of the links of the root namespace."""
    return [entry["ifname"] for entry in json.loads(ip("-j", "link", "show") or "[]")]


def networks_in_use() -> list[ipaddress.IPv4Network]:
    """Return every IPv4 network that an address or a route of this machine, or of one of its namespaces, uses."""
    found = []
    for namespace in [None, *namespaces()]:
        for entry in json.loads(ip("-j", "-4", "addr", "show", namespace=namespace, check=False) or "[]"):
            for info in entry.get("addr_info", []):
                found.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False))
        for route in json.loads(
            ip("-j", "-4", "route", "show", "table", "all", namespace=namespace, check=False) or "[]"
        ):
            destination = route.get("dst", "")
            if destination and destination != "default" and not destination.startswith("127."):
                found.append(
                    ipaddress.ip_network(destination if "/" in destination else f"{destination}/32", strict=False)
                )
    return found


def free_subnet() -> ipaddress.IPv4Network:
    """Return the first candidate /24 that overlaps nothing in use on this machine."""
    used = networks_in_use()
    for candidate in CANDIDATES:
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise Unavailable("every candidate /24 (10.213.x.0/24) is in use on this machine")


def unavailable_reason() -> str:
    """Return why network namespaces cannot be made here, or "" when they can."""
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    probe = f"{NAMESPACE_PREFIX}probe-{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return ""


@dataclass
class Host:
    name: str
    namespace: str
    address: str
    veth: str  # the root namespace's end, a port of the bridge
    peer: str  # the end inside the namespace
    workdir: Path
    cut: bool = False


@dataclass
class Network:
    """A bridge and one namespace per host name, on a private /24 of their own."""

    names: list[str]
    workdir: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    hosts: dict[str, Host] = field(default_factory=dict)
    made: dict[str, list[str]] = field(default_factory=lambda: {"netns": [], "link": [], "address": []})
    processes: list[subprocess.Popen] = field(default_factory=list)
    subnet: ipaddress.IPv4Network | None = None
    gateway: str = ""
    closed: bool = False
    previous_handlers: dict[int, object] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"cv{self.tag}br"

    def __enter__(self) -> Network:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- making --------------------------------------------------------------------------------
    def start(self) -> None:
        """Make the bridge and the hosts; clean up everything made so far if any step fails."""
        reason = unavailable_reason()
        if reason:
            raise Unavailable(reason)
        atexit.register(self.close)
        self.trap_signals()
        try:
            self.subnet = free_subnet()
            addresses = list(self.subnet.hosts())
            self.gateway = str(addresses[0])
            self.add_link(self.bridge, "type", "bridge", "forward_delay", "0")
            self.add_address(self.gateway, self.bridge)
            ip("link", "set", self.bridge, "up")
            for k, name in enumerate(self.names, start=1):
                self.add_host(name, str(addresses[k]))
        except BaseException:
            self.close()
            raise

    def add_host(self, name: str, address: str) -> None:
        """Make a namespace joined to the bridge by a veth pair, holding `address`, with its own directory."""
        namespace = f"{NAMESPACE_PREFIX}{self.tag}-{name}"
        host = Host(name, namespace, address, f"cv{self.tag}{name}", f"cv{self.tag}{name}p", self.workdir / name)
        host.workdir.mkdir(parents=True, exist_ok=True)
        ip("netns", "add", namespace)
        self.made["netns"].append(namespace)
        self.add_link(host.veth, "type", "veth", "peer", "name", host.peer)
        ip("link", "set", host.peer, "netns", namespace)
        ip("link", "set", host.veth, "master", self.bridge, "up")
        ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", host.peer, namespace=namespace)
        self.made["address"].append(address)
        ip("link", "set", "lo", "up", namespace=namespace)
        ip("link", "set", host.peer, "up", namespace=namespace)
        self.hosts[name] = host

    def add_link(self, name: str, *spec: str) -> None:
        if name in links():
            raise NotOurs(f"a link named {name} already exists")
        ip("link", "add", name, *spec)
        self.made["link"].append(name)

    def add_address(self, address: str, link: str) -> None:
        self.own("link", link)
        ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", link)
        self.made["address"].append(address)

    def own(self, kind: str, name: str) -> None:
        """Refuse (NotOurs) a namespace, link or address this network did not make."""
        if name not in self.made[kind]:
            raise NotOurs(f"{kind} {name} was not made by this harness")

    def host(self, name: str) -> Host:
        if name not in self.hosts:
            raise NotOurs(f"no host {name!r} in this network")
        host = self.hosts[name]
        self.own("netns", host.namespace)
        self.own("link", host.veth)
        return host

    # --- running -------------------------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
        """Start `argv` inside host `name`, in its working directory, in a process group of its own."""
        host = self.host(name)
        popen.setdefault("cwd", host.workdir)
        process = subprocess.Popen(
            ["ip", "netns", "exec", host.namespace, *argv], env=env, start_new_session=True, **popen
        )
        self.processes.append(process)
        return process

    def forward(self, port: int, timeout: float = 20) -> int:
        """Relay the bridge address to the service on 127.0.0.1:`port`; return the port the hosts connect to."""
        self.own("address", self.gateway)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.forwarder", "--listen", self.gateway, "--to", str(port)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()  # "listening on HOST:PORT", or "" if it died
        if not line.startswith("listening on "):
            raise RuntimeError(f"the forwarder to port {port} did not start")
        return int(line.rsplit(":", 1)[1])

    def run(self, name: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run `argv` inside host `name` and wait for it."""
        host = self.host(name)
        return subprocess.run(["ip", "netns", "exec", host.namespace, *argv], capture_output=True, text=True,
                              timeout=timeout, cwd=host.workdir)  # fmt: skip

    # --- faults --------------------------------------------------------------------------------
    def cut(self, name: str) -> None:
        """Take host `name`'s link down: nothing reaches it and nothing leaves it, as if its cable were pulled."""
        host = self.host(name)
        ip("link", "set", host.veth, "down")
        self.flush_neighbours(host)
        host.cut = True

    def restore(self, name: str) -> None:
        """Bring host `name`'s link back up."""
        host = self.host(name)
        ip("link", "set", host.veth, "up")
        self.flush_neighbours(host)
        host.cut = False

    def flush_neighbours(self, host: Host) -> None:
        """Forget the ARP entries on both ends, so neither side talks to a stale neighbour."""
        ip("neigh", "flush", "dev", self.bridge, "to", host.address, check=False)
        ip("neigh", "flush", "dev", host.peer, namespace=host.namespace, check=False)

    # --- cleaning up ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every process started here, then delete what was made; safe to call twice, never raises."""
        if self.closed:
            return
        self.closed = True
        self.stop_processes()
        for namespace in reversed(self.made["netns"]):  # deleting a namespace deletes the veth end inside it
            ip("netns", "delete", namespace, check=False)
        existing = links()
        for link in reversed(self.made["link"]):
            if link in existing:
                ip("link", "delete", link, check=False)
        self.release_signals()
        atexit.unregister(self.close)

    def stop_processes(self, grace: float = 15) -> None:
        """SIGTERM each process group started here, then SIGKILL what is left after `grace` seconds."""
        for process in self.processes:
            signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            signal_group(process, signal.SIGKILL)  # the group's children too (gunicorn's, Celery's pool)
            if process.poll() is None:
                process.wait()

    def trap_signals(self) -> None:
        """Clean up on SIGTERM and SIGHUP too (SIGINT raises KeyboardInterrupt, which the context manager sees)."""
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                self.previous_handlers[signum] = signal.signal(signum, self.on_signal)
            except ValueError:  # not the main thread: atexit and the context manager still clean up
                pass

    def release_signals(self) -> None:
        for signum, handler in self.previous_handlers.items():
            try:
                signal.signal(signum, handler)  # type: ignore[arg-type]
            except ValueError:
                pass
        self.previous_handlers.clear()

    def on_signal(self, signum: int, frame) -> None:
        self.close()
        sys.exit(128 + signum)


def signal_group(process: subprocess.Popen, signum: int) -> None:
    """Send `signum` to the process group led by `process` (one we started with a session of its own)."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
