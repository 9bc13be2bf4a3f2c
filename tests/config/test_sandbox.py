"""The sandbox: a runaway parser is stopped and reported; the caller's process carries on."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from config import sandbox
from config.sandbox import SandboxError
from notices import issuing
from notices.models import RegisterCounter
from notices.models.dispatch import DispatchError
from tests.conftest import approve
from tests.processes import run_python

pytestmark = pytest.mark.django_db  # not used by the children; keeps the file runnable alone


# --- Targets the child runs (module level, so the child can import them by name) ------------------
def add(a: int, b: int, *, times: int = 1) -> tuple[int, int]:
    return (a + b) * times, os.getpid()


def allocate_endlessly() -> None:
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))


def spin_forever() -> None:
    while True:
        pass


def refuse(message: str) -> None:
    raise ValueError(message)


def die() -> None:
    os._exit(3)


def setting(name: str):
    return getattr(settings, name)


# --- Tests ------------------------------------------------------------------------------------------
def test_it_returns_the_result_computed_in_another_process():
    result, pid = sandbox.run("tests.config.test_sandbox:add", 2, 3, times=2)
    assert result == 10 and pid != os.getpid()


# A Celery prefork pool process: daemonic, and billiard's (its authentication key refuses to be pickled). Run in a
# fresh interpreter, as a worker is: a process forked from this one would share this one's fork server.
FROM_A_POOL_PROCESS = """
import django, {module}
django.setup()
from config import sandbox
def call(answers):
    try:
        answers.put(sandbox.run("tests.config.test_sandbox:add", 20, 1, times=2)[0])
    except BaseException as exc:
        answers.put(repr(exc))
context = {module}.get_context("fork")
answers = context.Queue()
pool_process = context.Process(target=call, args=(answers,), daemon=True)
pool_process.start()
print(answers.get(timeout=60))
pool_process.join(10)
"""


@pytest.mark.parametrize("module", ["billiard", "multiprocessing"])
def test_a_celery_pool_process_runs_a_sandboxed_child(module):
    result = run_python("-c", FROM_A_POOL_PROCESS.format(module=module))
    assert result.stdout.strip() == "42", result.stderr[-2000:]


def test_endless_allocation_is_stopped_by_the_memory_limit_and_the_caller_survives():
    with pytest.raises(SandboxError, match="more memory") as caught:
        sandbox.run("tests.config.test_sandbox:allocate_endlessly", memory_mb=600, timeout_seconds=60)
    assert caught.value.reason == "memory"
    assert sandbox.run("tests.config.test_sandbox:add", 1, 1)[0] == 2


def test_a_runaway_loop_is_killed_at_the_wall_clock_timeout():
    with pytest.raises(SandboxError, match="too long") as caught:
        sandbox.run("tests.config.test_sandbox:spin_forever", timeout_seconds=3)
    assert caught.value.reason == "time"


def test_a_runaway_loop_is_stopped_by_the_cpu_limit():
    with pytest.raises(SandboxError) as caught:
        sandbox.run("tests.config.test_sandbox:spin_forever", cpu_seconds=1, timeout_seconds=60)
    assert caught.value.reason == "crash"  # SIGXCPU, then SIGKILL: the child cannot answer


def test_the_targets_own_error_arrives_as_raised():
    with pytest.raises(ValueError, match="not a Word file"):
        sandbox.run("tests.config.test_sandbox:refuse", "not a Word file")


def test_a_child_that_dies_is_reported():
    with pytest.raises(SandboxError, match="stopped unexpectedly"):
        sandbox.run("tests.config.test_sandbox:die")


def test_the_child_runs_with_the_callers_settings(settings):
    settings.SANDBOX_PROBE = "seen by the child"
    assert sandbox.run("tests.config.test_sandbox:setting", "SANDBOX_PROBE") == "seen by the child"


def test_a_target_must_be_named_module_colon_function():
    with pytest.raises(ValueError, match="module:function"):
        sandbox.run("tests.config.test_sandbox.add", 1, 2)


def test_issuing_renders_in_the_sandbox_and_a_runaway_takes_no_number(draft, clerk, settings):
    settings.SANDBOX_TIMEOUT_SECONDS = 0.01  # no render finishes this fast: it is stopped like a runaway
    with pytest.raises(DispatchError, match="could not be rendered: The work took too long"):
        issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert draft.number is None and draft.status == "approved" and not draft.pdf
    assert not RegisterCounter.objects.filter(last_number__gt=0).exists()
