"""A sweep killed with SIGKILL mid-trial resumes: finished trials are kept, none is
repeated, and the trial that was running is failed and tried again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from core.resources import resource_path
from core.sweeps.storage import read_status

ROOT = Path(__file__).resolve().parents[3]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_sweep_resumes_without_losing_or_repeating_trials(tmp_path):
    design = json.loads(Path(resource_path("examples", "xor.json")).read_text())
    design["training"]["epochs"] = 60  # about a second a trial: time to kill one mid-way
    design["dataset"]["samples"] = 400
    (tmp_path / "xor.json").write_text(json.dumps(design))
    space = {"parameters": {"training.learning_rate": {"low": 0.01, "high": 1.0,
                                                       "log": True}},
             "sampler": "random"}
    (tmp_path / "space.json").write_text(json.dumps(space))
    storage = tmp_path / "out" / "study.sweeps.db"
    command = [sys.executable, str(ROOT / "main.py"), "sweep", str(tmp_path / "xor.json"),
               "--space", str(tmp_path / "space.json"), "--trials", "5", "--workers", "1",
               "--out", str(tmp_path / "out")]
    first = subprocess.Popen(command, cwd=tmp_path, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def mid_trial() -> bool:
        if not storage.is_file():
            return False
        try:
            states = [row.state for row in read_status(str(storage), "xor").trials]
        except Exception:  # the study is still being made
            return False
        return states.count("complete") >= 2 and states[-1] == "running"

    try:
        _wait_for(mid_trial, 120, "two finished trials and a third running")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the driver and its worker, at once
        first.wait(10)
    before = read_status(str(storage), "xor").trials
    killed = before[-1]
    assert killed.state == "running"
    kept = {row.number: row for row in before if row.state == "complete"}

    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    after = read_status(str(storage), "xor").trials
    by_state = Counter(row.state for row in after)
    # The killed trial is failed and retried with the same settings; the study then
    # holds exactly its budget of finished trials, each number once.
    assert by_state == {"complete": 5, "fail": 1}
    assert [row.number for row in after] == list(range(len(after)))
    assert after[killed.number].state == "fail"
    retried = [row for row in after if row.number > killed.number
               and row.params == killed.params]
    assert len(retried) == 1 and retried[0].state == "complete"
    for number, row in kept.items():  # finished trials are kept as they were
        assert after[number].state == "complete" and after[number].value == row.value
    ran_again = [line for line in second.stdout.splitlines() if line.startswith("trial ")]
    assert len(ran_again) == 5 - len(kept)  # nothing finished was trained again
