"""Prometheus metrics of this process (prometheus-client), for `/metrics` and for each Celery worker's own port.

A worker with METRICS_WORKER_PORT set serves its metrics on METRICS_WORKER_ADDRESS:PORT (one port per worker,
from its main process, in a thread), answering only `Authorization: Bearer <METRICS_TOKEN>`. A prefork worker's
tasks run in child processes: set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, a local
directory emptied before the worker starts) and the port serves the sum over the children. A threaded or solo
worker, or gunicorn with one process per machine, needs no directory.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app, multiprocess
from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger(__name__)


def process_registry() -> CollectorRegistry:
    """Return the registry of this process's metrics: the sum over all processes in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def authorised(header: str, token: str) -> bool:
    """Return whether an Authorization header carries the bearer token (compared in constant time)."""
    return bool(token) and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def protected(app, token: str):
    """Wrap a WSGI app so that it answers 403 to any request without the bearer token."""

    def guarded(environ, start_response):
        if not authorised(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Forbidden\n"]
        return app(environ, start_response)

    return guarded


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # every scrape would be a line in the worker's log
        pass


def serve(address: str, port: int, token: str) -> ThreadingWSGIServer:
    """Serve this process's metrics on address:port in a daemon thread; return the server (port 0: any free one)."""
    server = make_server(address, port, protected(make_wsgi_app(process_registry()), token),
                         ThreadingWSGIServer, handler_class=QuietHandler)  # fmt: skip
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("Metrics on http://%s:%s/metrics", address, server.server_port)
    return server
