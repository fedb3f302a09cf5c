"""Sweeps on many machines: ``sweep-worker`` processes sharing one study in a real
PostgreSQL server (``postgres_url``: started by ``.ci/run`` or by the fixture itself).

Each worker is a separate ``main.py sweep-worker`` process with one training process of
its own, as it would run on another machine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import main
from core.files.design_file import load_design
from core.resources import resource_path
from core.sweeps.driver import open_study
from core.sweeps.plan import SweepPlan
from core.sweeps.space import parse_space
from core.sweeps.storage import (
    budget_count,
    load_sweep,
    open_storage,
    read_status,
    request_stop,
    study_names,
)

ROOT = Path(__file__).resolve().parents[3]
WAIT = 240.0  # seconds a worker may take at most (a loaded 2-core machine is slow)
SPACE = {"parameters": {"training.learning_rate": {"low": 1e-3, "high": 1.0, "log": True},
                        "layers[0].units": {"low": 2, "high": 16}},
         "objective": "val_loss", "sampler": "random"}


def _make_study(url: str, trials: int, epochs: int, samples: int) -> str:
    """A new study of a small XOR design in ``url`` (as ``sweep --storage URL`` makes
    it), with no trials yet; returns its name."""
    design = load_design(resource_path("examples", "xor.json"))
    design = dataclasses.replace(
        design, training=dataclasses.replace(design.training, epochs=epochs),
        dataset={**design.dataset, "samples": samples})
    name = f"t-{uuid.uuid4().hex[:10]}"
    plan = SweepPlan(parse_space(SPACE, design), trials=trials, workers=1, study_name=name,
                     storage=url)
    opened = open_storage(url)
    try:
        open_study(opened, design, plan)
    finally:
        opened.close()
    return name


def _start_worker(url: str, name: str) -> subprocess.Popen:
    """``main.py sweep-worker`` with one training process, in a process group of its own
    (so a test can kill it with its training child, as a machine dies)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "sweep-worker", "--storage", url,
         "--study", name, "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"sweep-worker {proc.pid} did not end in {WAIT} s:\n{out}\n{err}")
    return proc.returncode, out, err


def _numbers_printed(out: str) -> list[int]:
    """The trial numbers a worker printed a line for (``trial    3  ...``)."""
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("trial ")]


def _machine(worker: str) -> str:
    """``host:pid`` of a trial's worker name (``host:pid 1``)."""
    return worker.split(" ")[0]


def _trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    opened = open_storage(url, lock=False)
    return optuna.load_study(study_name=name, storage=opened.rdb).get_trials(deepcopy=False)


def _wait_for(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.2)


def test_two_workers_share_one_study(postgres_url):
    # Trials of about half a second: both workers are up before the budget is spent.
    name = _make_study(postgres_url, trials=8, epochs=30, samples=200)
    procs = [_start_worker(postgres_url, name), _start_worker(postgres_url, name)]
    ended = [_finish(p) for p in procs]
    for rc, out, err in ended:
        assert rc == 0, f"{out}\n{err}"
    trials = _trials(postgres_url, name)
    assert budget_count(trials) == 8
    assert not [t.number for t in trials if t.state in (TrialState.RUNNING,
                                                        TrialState.WAITING)]
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    # Each finished trial was trained and printed by exactly one worker.
    printed = [_numbers_printed(out) for _, out, _ in ended]
    assert sorted(printed[0] + printed[1]) == sorted(t.number for t in finished)
    assert all(printed), f"a worker trained no trial: {printed}"
    # Two workers do not draw the same settings (a sampler seeded alike in both would).
    settings = [tuple(sorted(t.params.items())) for t in finished]
    assert len(set(settings)) == len(settings), settings
    # The trial table names each trial's machine: the two worker processes.
    status = read_status(postgres_url, name)
    host = socket.gethostname()
    assert {_machine(r.worker) for r in status.trials} == {f"{host}:{p.pid}" for p in procs}


def test_a_stop_request_ends_every_worker(postgres_url):
    name = _make_study(postgres_url, trials=500, epochs=3, samples=100)
    procs = [_start_worker(postgres_url, name), _start_worker(postgres_url, name)]
    try:
        _wait_for(lambda: budget_count(_trials(postgres_url, name)) >= 3,
                  "three finished trials")
        request_stop(postgres_url, name)
        ended = [_finish(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
    for rc, out, err in ended:
        assert rc == 0, f"{out}\n{err}"
    trials = _trials(postgres_url, name)
    assert 3 <= budget_count(trials) < 500
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]


def test_a_killed_workers_trial_is_failed_by_heartbeat_and_retried(postgres_url):
    # Trials long enough (about a second or more) to be killed in the middle of one.
    name = _make_study(postgres_url, trials=5, epochs=60, samples=600)
    host = socket.gethostname()
    doomed = _start_worker(postgres_url, name)
    machine = f"{host}:{doomed.pid}"
    try:
        def doomed_is_mid_trial() -> bool:
            if doomed.poll() is not None:
                pytest.fail(f"the worker ended before it could be killed: "
                            f"{doomed.communicate()}")
            return any(t.state == TrialState.RUNNING and t.intermediate_values
                       and _machine(t.user_attrs.get("worker", "")) == machine
                       for t in _trials(postgres_url, name))
        _wait_for(doomed_is_mid_trial, "the first worker to be in the middle of a trial")
    finally:
        os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its training child
        doomed.communicate()
    killed = [t for t in _trials(postgres_url, name) if t.state == TrialState.RUNNING]
    assert len(killed) == 1
    rescuer = _start_worker(postgres_url, name)
    rc, out, err = _finish(rescuer)
    assert rc == 0, f"{out}\n{err}"
    trials = {t.number: t for t in _trials(postgres_url, name)}
    dead = trials[killed[0].number]
    assert dead.state == TrialState.FAIL  # by the heartbeat: nobody told Optuna
    retries = [t for t in trials.values()
               if t.system_attrs.get("failed_trial") == dead.number]
    assert len(retries) == 1
    assert retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert retries[0].params == dead.params
    assert _machine(retries[0].user_attrs["worker"]) == f"{host}:{rescuer.pid}"
    # None lost, none duplicated: the budget holds, each trial was finished once.
    assert budget_count(list(trials.values())) == 5
    assert not [n for n, t in trials.items() if t.state in (TrialState.RUNNING,
                                                            TrialState.WAITING)]
    assert sorted(_numbers_printed(out)) == sorted(
        n for n, t in trials.items() if t.state != TrialState.FAIL
        and _machine(t.user_attrs.get("worker", "")) == f"{host}:{rescuer.pid}")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once it is closed


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_ctrl_c_stops_a_worker_and_queues_its_trial_again(postgres_url):
    name = _make_study(postgres_url, trials=50, epochs=200, samples=300)
    worker = _start_worker(postgres_url, name)
    try:
        _wait_for(lambda: any(t.state == TrialState.RUNNING and t.intermediate_values
                              for t in _trials(postgres_url, name)), "a trial in training")
        os.killpg(worker.pid, signal.SIGINT)  # as a terminal sends it: the whole group
        rc, out, err = _finish(worker)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.communicate()
    assert rc == 130, f"{out}\n{err}"
    assert "Traceback" not in err  # neither the worker's nor its training child's
    assert "stopped," in out
    trials = _trials(postgres_url, name)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert len(failed) == len(waiting) == 1  # told failed, and queued again at once
    assert waiting[0].params == failed[0].params


def test_sweep_creates_the_study_in_the_database_and_a_worker_joins_it(
        capsys, postgres_url, tmp_path):
    # The README's set-up: 'sweep --storage URL' makes the study (and trains), then a
    # worker elsewhere needs only the URL and the name.
    design = json.loads(Path(resource_path("examples", "xor.json")).read_text())
    design["training"]["epochs"] = 3
    design["dataset"]["samples"] = 100
    (tmp_path / "xor.json").write_text(json.dumps(design))
    (tmp_path / "space.json").write_text(json.dumps(SPACE))
    name = f"cli-{uuid.uuid4().hex[:8]}"
    rc, out, err = run(capsys, "sweep", tmp_path / "xor.json", "--space",
                       tmp_path / "space.json", "--trials", 2, "--workers", 1, "--storage",
                       postgres_url, "--study", name, "--out", tmp_path / "out")
    assert rc == 0, err
    info = {s.name: s for s in study_names(postgres_url)}[name]
    assert (info.finished, info.budget) == (2, 2)
    stored, space, plan = load_sweep(postgres_url, name)
    assert stored.training.epochs == 3 and space.objective == "val_loss"
    rc, out, err = run(capsys, "sweep-worker", "--storage", postgres_url, "--study", name,
                       "--workers", 1)
    assert rc == 0, err
    assert "0 trial(s) trained here" in out  # the budget was already spent
    assert budget_count(_trials(postgres_url, name)) == 2


def test_an_unreachable_database_exits_2_with_one_line(capsys):
    url = f"postgresql://bps@127.0.0.1:{_closed_port()}/sweeps"
    rc, _, err = run(capsys, "sweep-worker", "--storage", url, "--study", "s")
    assert rc == 2
    assert len(err.strip().splitlines()) == 1
    assert "cannot open the sweep storage" in err and url in err


def test_a_study_file_is_refused_it_has_one_driver(capsys, tmp_path):
    rc, _, err = run(capsys, "sweep-worker", "--storage", tmp_path / "s.sweeps.db",
                     "--study", "s")
    assert rc == 2
    assert "database URL" in err and len(err.strip().splitlines()) == 1


def test_an_unknown_study_exits_2_with_one_line(capsys, postgres_url):
    known = _make_study(postgres_url, trials=2, epochs=2, samples=50)
    rc, _, err = run(capsys, "sweep-worker", "--storage", postgres_url, "--study", "nope")
    assert rc == 2
    assert len(err.strip().splitlines()) == 1
    assert "no study 'nope'" in err and known in err


def test_a_study_not_made_by_backprop_studio_exits_2(capsys, postgres_url):
    name = f"foreign-{uuid.uuid4().hex[:8]}"
    optuna.create_study(storage=open_storage(postgres_url, lock=False).rdb, study_name=name)
    rc, _, err = run(capsys, "sweep-worker", "--storage", postgres_url, "--study", name)
    assert rc == 2
    assert "not made by Backprop Studio" in err and len(err.strip().splitlines()) == 1
