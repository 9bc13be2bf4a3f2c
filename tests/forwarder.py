"""Relay TCP connections from one address to a service on 127.0.0.1, so the hosts of tests/netns.py can reach it.

    python -m tests.forwarder --listen 10.213.7.1 --to 6379

PostgreSQL, Redis, the S3 server and the SMTP sink listen on 127.0.0.1 only, which a network namespace cannot
reach; one forwarder per service listens on the bridge address (on a port the system picks, printed as
"listening on HOST:PORT" on stdout) and copies bytes both ways. A connection whose peer goes silent (a host whose
link was cut) simply waits, as it would across a real network.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

CHUNK = 64 * 1024


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from `reader` to `writer` until end of stream; then half-close the writer."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def relay(target_host: str, target_port: int, client_r, client_w) -> None:
    """Connect to the service and copy both ways until both directions end."""
    try:
        service_r, service_w = await asyncio.open_connection(target_host, target_port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pipe(client_r, service_w), pipe(service_r, client_w))
    for writer in (client_w, service_w):
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def serve(listen: str, port: int, target_host: str, target_port: int) -> None:
    """Listen on `listen`:`port` (0: any free port) until SIGTERM or SIGINT; print the address once listening."""
    relays: set[asyncio.Task] = set()

    def accept(reader, writer) -> None:  # a plain callback: the relays are ours to cancel cleanly at the end
        task = asyncio.create_task(relay(target_host, target_port, reader, writer))
        relays.add(task)
        task.add_done_callback(relays.discard)

    server = await asyncio.start_server(accept, listen, port, reuse_address=True)
    bound = server.sockets[0].getsockname()
    sys.stdout.write(f"listening on {bound[0]}:{bound[1]}\n")  # the line the harness waits for
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
        for task in list(relays):
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="the address to listen on (the bridge's)")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: one the system picks)")
    parser.add_argument("--to", type=int, required=True, help="the service's port on --to-host")
    parser.add_argument("--to-host", default="127.0.0.1")
    args = parser.parse_args()
    asyncio.run(serve(args.listen, args.port, args.to_host, args.to))


if __name__ == "__main__":
    main()
