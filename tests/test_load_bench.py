"""bench/load.py still runs: a few seconds of the real load, no errors, every incident
record stored exactly once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

# The search engine, its index or a tool, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent


def test_load_bench_smoke():
    result = subprocess.run(
        [sys.executable, "bench/load.py", "--seconds", "2", "--concurrency", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors: 0" in result.stdout
    assert "missing: 0  duplicated: 0" in result.stdout
