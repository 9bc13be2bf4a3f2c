"""A pytest plugin for `make mutants` only: mutmut runs pytest several times in one process, and forks per mutant."""

from __future__ import annotations

import os
from multiprocessing import forkserver

import pytest


def pytest_configure(config) -> None:
    """Give a forked mutant run its own multiprocessing fork server (config.sandbox renders and checks in it).

    mutmut forks each mutant's run from a process that inherited the address and pid of a fork server started by
    another process; asking that server for a child fails with ChildProcessError (os.waitpid: not our child), so
    every test that renders a PDF would fail and "kill" whatever mutant it ran for.
    """
    pid = forkserver._forkserver._forkserver_pid
    if pid is None:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        fresh = forkserver.ForkServer()
        forkserver._forkserver = fresh
        forkserver.ensure_running = fresh.ensure_running
        forkserver.get_inherited_fds = fresh.get_inherited_fds
        forkserver.connect_to_new_process = fresh.connect_to_new_process
        forkserver.set_forkserver_preload = fresh.set_forkserver_preload


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """Forget the content-type ids an earlier run in this process cached (they may name rows flushed since)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
