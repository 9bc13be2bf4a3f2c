"""Run a parser or renderer in a child process with memory, CPU and wall-clock limits.

`run("package.module:function", *args, **kwargs)` calls the named module-level function in a fresh child (the
"forkserver" start method: never a fork of the threaded web process) that runs with the parent's Django settings,
under RLIMIT_AS (memory) and RLIMIT_CPU, and is killed when the wall-clock timeout passes. It returns the
function's result, re-raises the exception the function raised (so a parser's own clear error arrives as it was
raised), or raises `SandboxError` with the reason when the child ran out of memory or time or died.

Arguments and results travel pickled through a pipe: pass bytes and plain data, never model instances. The
child has no database access of its own (its connection would not see the caller's transaction).
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import pickle
import resource
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.process import AuthenticationString  # type: ignore[attr-defined]
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.test.utils import override_settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)
MB = 1024 * 1024
MISSING = object()


class SandboxError(Exception):
    """The child ran out of memory or time, or died; `reason` is "memory", "time" or "crash", `str()` says it."""

    def __init__(self, reason: str, message) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    cpu_seconds: int
    timeout_seconds: float

    @classmethod
    def from_settings(cls, **overrides) -> Limits:
        values = {
            "memory_mb": settings.SANDBOX_MEMORY_MB,
            "cpu_seconds": settings.SANDBOX_CPU_SECONDS,
            "timeout_seconds": settings.SANDBOX_TIMEOUT_SECONDS,
        }
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})


def run(target: str, *args, memory_mb: int | None = None, cpu_seconds: int | None = None,
        timeout_seconds: float | None = None, **kwargs) -> Any:  # fmt: skip
    """Return target(*args, **kwargs) computed in a limited child process (target: "module:function")."""
    limits = Limits.from_settings(memory_mb=memory_mb, cpu_seconds=cpu_seconds, timeout_seconds=timeout_seconds)
    context = forkserver()
    receiver, sender = context.Pipe(duplex=False)
    job = (target, args, kwargs, limits, settings_snapshot(), translation.get_language())
    child = context.Process(target=child_main, args=(sender, *job))
    start(child)
    sender.close()
    try:
        return outcome(receiver, child, target, limits)
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)


def start(child) -> None:
    """Start the child, also from a Celery prefork pool process.

    A pool process is daemonic, and multiprocessing refuses a daemonic process children lest they outlive it;
    ours cannot: `run` kills its child when it returns, and the child's CPU limit ends it if its parent dies.
    A pool process is also billiard's, whose authentication key refuses to travel to the fork server: while the
    child starts, this process's key is multiprocessing's own, with the same bytes.
    """
    me = multiprocessing.current_process()
    config = me._config  # type: ignore[attr-defined]
    saved = {name: config[name] for name in ("daemon", "authkey") if name in config}
    config["daemon"] = False
    config["authkey"] = AuthenticationString(bytes(me.authkey))
    child.authkey = bytes(me.authkey)
    try:
        child.start()
    finally:
        config.pop("daemon", None)
        config.update(saved)


@lru_cache(maxsize=1)
def forkserver():
    """Return the "forkserver" context whose server has Django loaded (config/sandbox_boot.py)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["config.sandbox_boot"])
    return context


def outcome(receiver, child, target: str, limits: Limits) -> Any:
    """Wait for the child's answer within the timeout; return its result or raise what went wrong."""
    if not receiver.poll(limits.timeout_seconds):
        child.kill()
        log.warning("Sandboxed %s killed after %ss", target, limits.timeout_seconds)
        raise SandboxError("time", _("The work took too long and was stopped."))
    try:
        kind, value = receiver.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        child.join(5)
        log.warning("Sandboxed %s died (exit code %s)", target, child.exitcode)
        raise SandboxError("crash", _("The work stopped unexpectedly (it ran out of time or memory).")) from None
    if kind == "ok":
        return value
    if kind == "memory":
        raise SandboxError("memory", _("The work needed more memory than allowed and was stopped."))
    raise value


def settings_snapshot() -> dict:
    """Return the parent's settings that can travel to the child (overrides made by tests included)."""
    snapshot = {}
    for name in dir(settings):
        if name.isupper():
            value = getattr(settings, name)
            try:
                pickle.dumps(value)
            except Exception:  # noqa: BLE001, S112 - what cannot travel is left at its default
                continue
            snapshot[name] = value
    return snapshot


def child_main(sender, target: str, args, kwargs, limits: Limits, snapshot: dict, language: str | None) -> None:
    """Limit this process, set Django up with the caller's settings and language, run the target, send the outcome."""
    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    try:
        setup_django(snapshot)
        translation.activate(language or settings.LANGUAGE_CODE)
        sender.send(("ok", resolve(target)(*args, **kwargs)))
    except MemoryError:
        sender.send(("memory", None))
    except Exception as exc:  # noqa: BLE001 - every error goes back to the parent, which re-raises it
        sender.send(("error", exc if picklable(exc) else SandboxError("crash", f"{type(exc).__name__}: {exc}")))
    finally:
        sender.close()


def setup_django(snapshot: dict) -> None:
    """Give the child the caller's settings: over the fork server's ready Django, else from scratch."""
    if not apps.ready:
        settings.configure(**snapshot)
        django.setup()
        return
    changed = {name: value for name, value in snapshot.items() if getattr(settings, name, MISSING) != value}
    changed.pop("DATABASES", None)  # a child has no database access of its own
    override_settings(**changed).enable()


def resolve(target: str):
    """Return the module-level function named "package.module:function"."""
    module_name, _sep, function_name = target.partition(":")
    if not function_name:
        raise ValueError(f"A sandbox target is named 'module:function', not {target!r}.")
    return getattr(importlib.import_module(module_name), function_name)


def picklable(value) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # noqa: BLE001
        return False
    return True
