"""The benchmarks' environment: their own databases next to the test database, dropped afterwards."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, connections

from tests.processes import child_database_url


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
