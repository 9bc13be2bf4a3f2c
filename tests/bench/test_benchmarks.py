"""Every benchmark still runs: each script under bench/ at a tiny size, in its own databases next to the test one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from tests import netns
from tests.processes import run_python

BENCH_DIR = Path(settings.BASE_DIR) / "bench"
# A tiny size for each benchmark: a new benchmark must add itself here (the test below fails until it does).
TINY = {
    "admin_pages.py": ["--dispatches", "5", "--per-dispatch", "4", "--organisations", "10", "--audit-events", "10",
                       "--repeats", "1"],
    "dkim_signing.py": ["--messages", "5", "--pdf-kb", "10"],
    "document.py": ["--rounds", "1"],
    "fault_injection.py": ["--recipients", "20"],
    "import_directory.py": ["--rows", "50"],
    "multi_host.py": ["--recipients", "20", "--cut", "2", "--stuck", "2", "--settle", "1"],
    "personalised.py": ["--recipients", "12", "--workers", "1"],
    "send_pipeline.py": ["--recipients", "20", "--workers", "1"],
}  # fmt: skip
BENCHMARKS = sorted(path.name for path in BENCH_DIR.glob("[!_]*.py"))


def test_every_benchmark_has_a_tiny_size():
    assert set(BENCHMARKS) == set(TINY)


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql", reason="PostgreSQL")
@pytest.mark.parametrize("script", BENCHMARKS)
def test_the_benchmark_runs_at_a_tiny_size_and_prints_json_lines(script, bench_env):
    if script == "multi_host.py" and (reason := netns.unavailable_reason()):
        pytest.skip(f"network namespaces cannot be created here: {reason}")
    result = run_python(str(BENCH_DIR / script), *TINY[script], timeout=300, **bench_env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert lines and all(isinstance(line, dict) for line in lines)
    if script in ("fault_injection.py", "multi_host.py"):  # killed workers, a restarted Redis, a cut host: no loss
        assert [(line["missing"], line["failed"]) for line in lines] == [(0, 0)], lines
    pages = [line for line in lines if "page" in line]
    assert all(line["status"] == 200 for line in pages), [line["url"] for line in pages if line["status"] != 200]
