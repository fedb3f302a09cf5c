"""Atomic saves clean up after killed saves: a save killed midway leaves its temporary
file; the next save of the same file removes it, and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.storage.checked_io import LEGACY_TEMP_AGE_S, atomic_write_bytes, remove_stale_temps

ROOT = Path(__file__).resolve().parents[3]


def dead_pid() -> int:
    """The id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_of_this_target_are_removed_on_the_next_save(tmp_path):
    target = tmp_path / "design.json"
    target.write_bytes(b"old")
    pid = dead_pid()
    stale = [tmp_path / f".design.json.{pid}-abcd1234.tmp",
             tmp_path / f".design.json.{pid}-zz_9zz00.tmp"]
    keep = [
        tmp_path / ".design.json.notes.tmp",             # not our naming
        tmp_path / f".other.json.{pid}-abcd1234.tmp",    # another target's
        tmp_path / f".design.json.{pid}-abcd1234.tmp.bak",
        tmp_path / f"design.json.{pid}-abcd1234.tmp",    # no leading dot: not ours
        tmp_path / f".design.json.{os.getpid()}-abcd1234.tmp",  # a live process's
        tmp_path / f".design.json.x.{pid}-abcd1234.tmp",  # the target "design.json.x"'s
    ]
    for f in stale + keep:
        f.write_bytes(b"x" * 100)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [f.name for f in stale if f.exists()] == []
    assert [f.name for f in keep if not f.exists()] == []
    # Nothing of this save is left over either.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name] + [f.name for f in keep])


def test_a_locked_temporary_file_is_kept_even_if_its_process_id_is_gone(tmp_path):
    # flock says "being written" where the process id cannot (another PID namespace).
    target = tmp_path / "p.bpsproj"
    temp = tmp_path / f".p.bpsproj.{dead_pid()}-abcd1234.tmp"
    temp.write_bytes(b"half")
    import fcntl

    fd = os.open(temp, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert remove_stale_temps(target) == []
        assert temp.exists()
    finally:
        os.close(fd)
    assert remove_stale_temps(target) == [temp]
    assert not temp.exists()


def test_old_style_temporary_files_are_removed_only_once_old(tmp_path):
    target = tmp_path / "d.json"
    old, fresh = tmp_path / ".d.json.abcd1234.tmp", tmp_path / ".d.json.efgh5678.tmp"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    past = time.time() - LEGACY_TEMP_AGE_S - 60
    os.utime(old, (past, past))
    atomic_write_bytes(target, b"{}")
    assert not old.exists()
    assert fresh.exists()


def test_a_symlink_with_our_naming_is_not_followed_or_removed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / f".d.json.{dead_pid()}-abcd1234.tmp"
    link.symlink_to(victim)
    atomic_write_bytes(tmp_path / "d.json", b"{}")
    assert link.is_symlink()
    assert victim.read_text() == "keep me"


KILLED_SAVE = """
import os, sys, time
sys.path.insert(0, {root!r})
from core.storage import checked_io as io
def stuck(fd):  # the save is killed while it syncs the data
    print("writing", flush=True)
    time.sleep(60)
io.os.fsync = stuck
io.atomic_write_bytes({target!r}, b"half-written " * 100000)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_save_killed_midway_leaves_a_temporary_file_that_the_next_save_removes(tmp_path):
    target = tmp_path / "project.bpsproj"
    atomic_write_bytes(target, b"first")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE.format(root=str(ROOT), target=str(target))],
        stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        (temp,) = tmp_path.glob(".project.bpsproj.*.tmp")
        # While that process writes, our save leaves its temporary file alone.
        atomic_write_bytes(target, b"second")
        assert temp.exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert temp.exists()  # what a killed save leaves behind
    atomic_write_bytes(target, b"third")
    assert not temp.exists()
    assert target.read_bytes() == b"third"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
