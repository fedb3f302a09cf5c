"""The driver with worker processes: live curves while trials train, stop from another
thread (running trials failed and retried on resume), results taken by the window."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from core.datasets import DatasetSpec, load_dataset
from core.datasets.source import to_send
from core.files.design_file import load_design
from core.records.record import RunRecord
from core.resources import resource_path
from core.sweeps.driver import SweepDriver
from core.sweeps.plan import SweepPlan
from core.sweeps.space import parse_space
from core.sweeps.storage import read_status


@pytest.fixture(scope="module")
def slow_xor():
    """XOR with enough epochs that a trial is still running when looked at."""
    design = load_design(resource_path("examples", "xor.json"))
    design = dataclasses.replace(
        design, training=dataclasses.replace(design.training, epochs=5000),
        dataset={**design.dataset, "samples": 400})
    return design, load_dataset(DatasetSpec.from_dict(design.dataset))


SPACE = {"parameters": {"training.learning_rate": {"low": 1e-3, "high": 1.0, "log": True}},
         "sampler": "random"}


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_stop_ends_running_trials_which_a_resume_retries(slow_xor, tmp_path):
    design, dataset = slow_xor
    plan = SweepPlan(parse_space(SPACE, design), 4, workers=2, study_name="s",
                     storage=str(tmp_path / "s.db"))
    driver = SweepDriver(design, to_send(dataset, design.dataset, None), plan,
                         task=dataset.task)
    thread = threading.Thread(target=driver.run)
    thread.start()
    try:
        # Both workers train, and their curves reach the status as they do.
        _wait(lambda: len(driver.status().live) == 2
              and all(t.loss.shape[0] > 5 for t in driver.status().live))
        live = driver.status().live
        assert all(t.grads.shape[1] == 1 + len(t.layer_names) for t in live)
        running = {t.number for t in live}
    finally:
        driver.stop()
        thread.join(30)
    assert not thread.is_alive()
    status = driver.status()
    assert status.state == "finished"
    assert driver.take_results() == [] or all(
        r.state == "fail" for r in driver.take_results())
    rows = {row.number: row for row in read_status(plan.storage, "s").trials}
    assert all(rows[n].state == "fail" for n in running), (running, rows)
    waiting = [row for row in rows.values() if row.state == "waiting"]
    assert sorted(row.params["training.learning_rate"] for row in waiting) == sorted(
        rows[n].params["training.learning_rate"] for n in running)


def test_results_carry_records_grouped_under_the_sweep(tmp_path):
    design = load_design(resource_path("examples", "xor.json"))
    design = dataclasses.replace(
        design, training=dataclasses.replace(design.training, epochs=3),
        dataset={**design.dataset, "samples": 100})
    dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
    plan = SweepPlan(parse_space(SPACE, design), 3, workers=2, study_name="g",
                     storage=str(tmp_path / "g.db"))
    driver = SweepDriver(design, dataset, plan)
    driver.run()
    results = driver.take_results()
    assert sorted(r.number for r in results) == [0, 1, 2]
    records = [r.record for r in results]
    assert all(r is not None and r.sweep == "g" for r in records)
    again = RunRecord.from_dict(records[0].to_dict())  # saved in a project and read back
    assert (again.sweep, again.trial) == ("g", records[0].trial)
    assert "sweep" not in dataclasses.replace(records[0], sweep="").to_dict()
