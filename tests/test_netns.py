"""The multi-host harness: hosts that reach the loopback services only through forwarders, cut and restored links,
and nothing left behind or touched that it did not make."""

from __future__ import annotations

import json
import signal
import socketserver
import subprocess
import sys
import threading
import time

import pytest

from tests import netns

REASON = netns.unavailable_reason()
pytestmark = pytest.mark.skipif(bool(REASON), reason=f"network namespaces cannot be created here: {REASON}")

# Run inside a host: connect to HOST:PORT, send "ping", print what comes back (or the error's name).
CLIENT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:
        s.sendall(b"ping"); s.shutdown(socket.SHUT_WR); print(s.recv(100).decode())
except OSError as exc:
    print(type(exc).__name__)
"""
# Run as its own process: make a network, print what it made, wait to be terminated.
ORPHAN = """
import json, pathlib, sys, time
from tests import netns
net = netns.Network(["x"], pathlib.Path(sys.argv[1]))
net.start()
net.spawn("x", ["sleep", "600"])
print(json.dumps({"namespaces": net.made["netns"], "links": net.made["link"], "pid": net.processes[0].pid}), flush=True)
time.sleep(600)
"""


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"echo:" + self.request.recv(100))


@pytest.fixture
def echo():
    """Return the port of an echo server on 127.0.0.1 (a stand-in for PostgreSQL or Redis)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def net(tmp_path):
    with netns.Network(["b", "c"], tmp_path / "hosts") as network:
        yield network


def ask(net: netns.Network, host: str, address: str, port: int) -> str:
    return net.run(host, sys.executable, "-c", CLIENT, address, str(port)).stdout.strip()


def test_it_picks_a_private_subnet_that_nothing_else_on_this_machine_uses(tmp_path):
    before = netns.networks_in_use()
    with netns.Network(["b"], tmp_path) as net:
        assert net.subnet.is_private and net.subnet.prefixlen == 24
        assert not any(net.subnet.overlaps(network) for network in before), before
        assert net.subnet in netns.networks_in_use()
        assert {net.gateway, net.hosts["b"].address} < {str(a) for a in net.subnet.hosts()}


def test_a_host_reaches_a_loopback_service_only_through_its_forwarder(net, echo):
    port = net.forward(echo)
    assert ask(net, "b", net.gateway, port) == "echo:ping"
    assert ask(net, "b", "127.0.0.1", echo) == "ConnectionRefusedError"  # the host's own loopback, not ours


def test_each_host_has_its_own_working_directory(net):
    assert net.run("b", "pwd").stdout.strip() == str(net.hosts["b"].workdir)
    assert net.hosts["b"].workdir != net.hosts["c"].workdir


def test_a_cut_host_reaches_nothing_until_its_link_is_restored(net, echo):
    port = net.forward(echo)
    net.cut("b")
    assert ask(net, "b", net.gateway, port) != "echo:ping"
    assert ask(net, "c", net.gateway, port) == "echo:ping"  # the other host is untouched
    net.restore("b")
    assert ask(net, "b", net.gateway, port) == "echo:ping"


def test_it_refuses_to_touch_what_it_did_not_make(net):
    with pytest.raises(netns.NotOurs):
        net.cut("eth0")
    with pytest.raises(netns.NotOurs):
        net.own("link", "lo")
    with pytest.raises(netns.NotOurs):
        net.own("address", "127.0.0.1")
    with pytest.raises(netns.NotOurs):
        net.add_link("lo", "type", "dummy")
    assert "lo" in netns.links()


def test_closing_stops_its_processes_and_deletes_everything_it_made(tmp_path):
    net = netns.Network(["b"], tmp_path)
    net.start()
    sleeper = net.spawn("b", ["sleep", "600"])
    made = list(net.made["link"])
    net.close()
    assert sleeper.poll() is not None
    assert net.hosts["b"].namespace not in netns.namespaces()
    assert not set(made) & set(netns.links())
    net.close()  # a second close is harmless


def test_it_cleans_up_when_its_process_is_terminated(tmp_path):
    orphan = subprocess.Popen([sys.executable, "-c", ORPHAN, str(tmp_path)], cwd=netns.ROOT, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    made = json.loads(orphan.stdout.readline())
    assert set(made["namespaces"]) <= set(netns.namespaces())
    orphan.send_signal(signal.SIGTERM)
    assert orphan.wait(timeout=60) == 128 + signal.SIGTERM
    assert not set(made["namespaces"]) & set(netns.namespaces())
    assert not set(made["links"]) & set(netns.links())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and process_exists(made["pid"]):
        time.sleep(0.1)
    assert not process_exists(made["pid"])


def process_exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
