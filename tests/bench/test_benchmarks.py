"""Every benchmark still runs: each script under bench/ at a tiny size, in its own databases next to the test one."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from tests.processes import child_database_url, run_python

BENCH_DIR = Path(settings.BASE_DIR) / "bench"
# A tiny size for each benchmark: a new benchmark must add itself here (the test below fails until it does).
TINY = {
    "admin_pages.py": ["--dispatches", "5", "--per-dispatch", "4", "--organisations", "10", "--audit-events", "10",
                       "--repeats", "1"],
    "dkim_signing.py": ["--messages", "5", "--pdf-kb", "10"],
    "document.py": ["--rounds", "1"],
    "fault_injection.py": ["--recipients", "20"],
    "import_directory.py": ["--rows", "50"],
    "personalised.py": ["--recipients", "12", "--workers", "1"],
    "send_pipeline.py": ["--recipients", "20", "--workers", "1"],
}  # fmt: skip
BENCHMARKS = sorted(path.name for path in BENCH_DIR.glob("[!_]*.py"))


def server_url() -> str:
    return child_database_url().rsplit("/", 1)[0] + "/postgres"


@pytest.fixture
def bench_env(transactional_db, tmp_path):
    """Return the benchmarks' environment; drop the databases they made next to the test database afterwards.

    The benchmarks copy the migrated test database (BENCH_TEMPLATE_DATABASE) instead of migrating afresh, and a
    database can be copied only while nobody is connected to it: this test's own sessions end first.
    """
    test_database = connection.settings_dict["NAME"]
    env = {"DATABASE_URL": child_database_url(), "BENCH_TEMPLATE_DATABASE": test_database, "VAR_DIR": str(tmp_path)}
    connections.close_all()
    with psycopg.connect(server_url(), autocommit=True) as server:
        server.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [test_database],
        )
    yield env
    with psycopg.connect(server_url(), autocommit=True) as server:
        made = server.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [test_database.replace("_", r"\_") + r"\_%bench"]
        ).fetchall()
        made += server.execute(
            "SELECT datname FROM pg_database WHERE datname = %s", [f"{test_database}_faults"]
        ).fetchall()
        for (name,) in made:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_benchmark_has_a_tiny_size():
    assert set(BENCHMARKS) == set(TINY)


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql", reason="PostgreSQL")
@pytest.mark.parametrize("script", BENCHMARKS)
def test_the_benchmark_runs_at_a_tiny_size_and_prints_json_lines(script, bench_env):
    result = run_python(str(BENCH_DIR / script), *TINY[script], timeout=300, **bench_env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert lines and all(isinstance(line, dict) for line in lines)
    if script == "fault_injection.py":  # killed pool processes and a Redis restart lose no recipient
        assert [(line["missing"], line["failed"]) for line in lines] == [(0, 0)], lines
    pages = [line for line in lines if "page" in line]
    assert all(line["status"] == 200 for line in pages), [line["url"] for line in pages if line["status"] != 200]
