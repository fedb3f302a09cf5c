"""A PostgreSQL server for the many-machines sweep tests.

``BPS_TEST_POSTGRES_URL`` (set by ``.ci/run``) names one; without it the fixture starts
a throwaway server itself with the same script, ``.ci/postgres.sh``, and stops it after
the session. The tests skip only when no server can be started, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / ".ci" / "postgres.sh"
URL_VARIABLE = "BPS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database URL (``postgresql://...``) on a server the tests may write."""
    if url := os.environ.get(URL_VARIABLE):
        yield url
        return
    if shutil.which("bash") is None:
        pytest.skip("no PostgreSQL server could be started: no bash to run .ci/postgres.sh")
    # Not pytest's tmp_path: its folders are private to this user, and as root the
    # server runs as the postgres user, who must reach the folder.
    folder = tempfile.mkdtemp(prefix="bps-postgres-")
    try:
        started = subprocess.run(["bash", str(SCRIPT), "start", folder], capture_output=True,
                                 text=True, timeout=600)
    except subprocess.TimeoutExpired:
        started = None
    if started is None or started.returncode != 0:
        subprocess.run(["bash", str(SCRIPT), "stop", folder], capture_output=True)
        reason = "timed out" if started is None else \
            (started.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"no PostgreSQL server could be started (set {URL_VARIABLE} to use "
                    f"one, or install Debian's postgresql): {reason}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", folder], capture_output=True)
