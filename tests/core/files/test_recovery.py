"""Crash recovery, headless: this instance's copy, the leftovers of killed instances,
restore (adopt), decline (discard), corrupt copies, and two instances side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from core import build_network
from core.files.design_file import load_design
from core.files.project import Project, parse_project, project_bytes
from core.files.recovery import RecoveryInfo, RecoveryStore, describe
from core.records.record import RunRecord
from core.resources import resource_path

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(os.name != "posix", reason="flock and SIGKILL")


def xor_project(runs: int = 2, weights: bool = True) -> Project:
    design = load_design(resource_path("examples", "xor.json"))
    state = build_network(design.network, seed=5, dtype=np.float32).state_dict()
    records = [RunRecord(design, name=f"Run {i + 1}") for i in range(runs)]
    return Project(design, state if weights else None, [], np.zeros((0, 2)), records)


def info(name: str = "xor.bpsproj", path: str | None = "/home/u/xor.bpsproj") -> RecoveryInfo:
    return RecoveryInfo(name, path, time.time())


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ one session


def test_a_session_writes_its_copy_and_a_normal_close_removes_everything(tmp_path):
    store = RecoveryStore(tmp_path / "recovery")
    session = store.start_session()
    assert files(store.folder) == [f"{session.id}.lock"]
    data = project_bytes(xor_project())
    session.write(data, info())
    assert session.project_path.read_bytes() == data
    assert RecoveryInfo.from_bytes(session.info_path.read_bytes(), "x").document == \
        "xor.bpsproj"
    session.clear()  # after a normal save: the copy goes, the session stays
    assert files(store.folder) == [f"{session.id}.lock"]
    session.write(data, info())
    session.close()  # after a normal close: nothing is left
    assert files(store.folder) == []
    with pytest.raises(ValueError, match="closed"):
        session.write(data, info())


def test_a_running_instances_copy_is_not_offered_to_another_instance(tmp_path):
    first = RecoveryStore(tmp_path).start_session()
    first.write(project_bytes(xor_project()), info())
    other = RecoveryStore(tmp_path)  # a second instance (flock: same process counts)
    second = other.start_session()
    assert other.leftovers() == []
    second.write(project_bytes(xor_project(runs=5)), info("other.json", None))
    # Neither clobbered the other.
    assert first.project_path != second.project_path
    assert len(parse_project(first.project_path.read_bytes(), "a").runs) == 2
    assert len(parse_project(second.project_path.read_bytes(), "b").runs) == 5
    first.close()
    second.close()


def test_the_copy_is_never_written_over_the_users_own_file(tmp_path):
    session = RecoveryStore(tmp_path).start_session()
    with pytest.raises(ValueError, match="refusing"):
        session.write(b"x", info(path=str(session.project_path)))
    assert not session.project_path.exists()


# --------------------------------------------------------- after a real SIGKILL

CRASHING_INSTANCE = """
import sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from test_recovery import info, xor_project
from core.files.project import project_bytes
from core.files.recovery import RecoveryStore
session = RecoveryStore({folder!r}).start_session()
session.write(project_bytes(xor_project(runs=3)), info("spiral.bpsproj", "/data/spiral.bpsproj"))
print(session.id, flush=True)
time.sleep(120)
"""


def start_instance(folder: Path) -> tuple[subprocess.Popen, str]:
    code = CRASHING_INSTANCE.format(root=str(ROOT), tests=str(Path(__file__).parent),
                                    folder=str(folder))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def test_a_killed_instances_copy_is_offered_with_what_it_holds_and_restores_whole(tmp_path):
    proc, killed_id = start_instance(tmp_path)
    try:
        store = RecoveryStore(tmp_path)
        assert store.leftovers() == []  # alive: not a crash
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (entry,) = store.leftovers()
    assert entry.error is None
    assert entry.document == "spiral.bpsproj"
    assert entry.original_path == Path("/data/spiral.bpsproj")
    assert entry.summary() == "the design, 3 runs and trained weights"
    assert abs(entry.saved_at - time.time()) < 600
    expected = xor_project(runs=3)
    assert entry.project.design == expected.design
    assert [r.name for r in entry.project.runs] == ["Run 1", "Run 2", "Run 3"]
    assert set(entry.project.weights) == set(expected.weights)
    for k, v in expected.weights.items():
        np.testing.assert_array_equal(entry.project.weights[k], v)
    # While this instance holds it, a third instance is not offered it too.
    assert RecoveryStore(tmp_path).leftovers() == []
    # Restore: the copy becomes this instance's own; the leftover's files are gone.
    session = store.start_session()
    session.adopt(entry, RecoveryInfo(entry.document, str(entry.original_path),
                                      entry.saved_at))
    assert files(tmp_path) == sorted([f"{session.id}.lock", f"{session.id}.bpsproj",
                                      f"{session.id}.json"])
    assert not any(killed_id in name for name in files(tmp_path))
    assert parse_project(session.project_path.read_bytes(), "x").design == expected.design
    assert RecoveryStore(tmp_path).leftovers() == []  # ours now, and we are alive
    session.close()


def test_declining_deletes_the_copy(tmp_path):
    proc, _ = start_instance(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (entry,) = RecoveryStore(tmp_path).leftovers()
    entry.discard()
    assert files(tmp_path) == []
    assert RecoveryStore(tmp_path).leftovers() == []


def test_not_now_keeps_the_copy_for_the_next_start(tmp_path):
    proc, _ = start_instance(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (entry,) = RecoveryStore(tmp_path).leftovers()
    entry.release()
    (again,) = RecoveryStore(tmp_path).leftovers()
    assert again.project.design == entry.project.design
    again.release()


# ------------------------------------------------------------- left by dead ones


def leave_behind(folder: Path, data: bytes | None, info_bytes: bytes | None = None,
                 saved_at: float | None = None) -> Path:
    """A session of a dead instance (its lock file exists and is not held)."""
    session = RecoveryStore(folder).start_session()
    if data is not None:
        session.write(data, RecoveryInfo("x.json", None, saved_at or time.time()))
        if info_bytes is not None:
            session.info_path.write_bytes(info_bytes)
    os.close(session._fd)  # dies without closing the session
    return session.project_path


def test_a_corrupt_copy_is_reported_and_never_loaded(tmp_path):
    good = project_bytes(xor_project())
    path = leave_behind(tmp_path, good[: len(good) // 2])  # truncated mid-write
    (entry,) = RecoveryStore(tmp_path).leftovers()
    assert entry.project is None
    assert entry.error.startswith(f"{path.name}: ") and "truncated" in entry.error
    assert entry.summary() == "unreadable"
    entry.discard()
    assert files(tmp_path) == []


@pytest.mark.parametrize("junk", [b"", b"\x00" * 100, b"{not json", b"PK\x03\x04zip"])
def test_garbage_in_place_of_a_copy_is_an_error_not_a_crash(tmp_path, junk):
    leave_behind(tmp_path, junk)
    (entry,) = RecoveryStore(tmp_path).leftovers()
    assert entry.project is None and entry.error


def test_a_corrupt_description_makes_the_entry_unreadable(tmp_path):
    leave_behind(tmp_path, project_bytes(xor_project()), info_bytes=b'{"format": 1}')
    (entry,) = RecoveryStore(tmp_path).leftovers()
    assert entry.project is None
    assert "not a recovery description" in entry.error


def test_an_instance_that_never_autosaved_leaves_nothing_to_offer(tmp_path):
    leave_behind(tmp_path, None)
    assert RecoveryStore(tmp_path).leftovers() == []
    assert files(tmp_path) == []  # and its lock file is tidied away


def test_a_description_without_its_document_is_tidied_away(tmp_path):
    path = leave_behind(tmp_path, project_bytes(xor_project()))
    path.unlink()  # killed between removing the document and its description
    assert RecoveryStore(tmp_path).leftovers() == []
    assert files(tmp_path) == []


def test_leftovers_come_newest_first_and_unrelated_files_are_left_alone(tmp_path):
    leave_behind(tmp_path, project_bytes(xor_project(runs=4)), saved_at=2_000_000)
    leave_behind(tmp_path, project_bytes(xor_project(runs=1)), saved_at=1_000_000)
    leave_behind(tmp_path, project_bytes(xor_project(runs=2)), saved_at=3_000_000)
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "1234.lock").write_text("")
    entries = RecoveryStore(tmp_path).leftovers()
    assert [len(e.project.runs) for e in entries] == [2, 4, 1]
    for e in entries:
        e.discard()
    assert files(tmp_path) == ["1234.lock", "notes.json"]


def test_describe_names_what_a_project_holds():
    assert describe(xor_project(runs=0, weights=False)) == "the design"
    assert describe(xor_project(runs=1, weights=False)) == "the design and 1 run"
    assert describe(xor_project(runs=0)) == "the design and trained weights"
