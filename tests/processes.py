"""Run our own commands in a child process against the test database and the test Redis, never the real ones."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def child_database_url() -> str:
    """Return the URL of the database the tests use (pytest-django's test_<name>), for a child process."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("a child process can share only a PostgreSQL test database")
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    return f"postgres://{credentials}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_environment(**extra: str) -> dict[str, str]:
    """Return the environment of a child process: the test database, the test Redis, quiet logs."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": child_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def run_python(*args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `python ARGS` from the project folder in a child process that uses the test database."""
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=child_environment(**extra_env),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
