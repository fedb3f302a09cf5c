"""The training child process: runs, commands, errors, a child that dies, a child that
does not answer, data loaded in the child, and the handle used from several threads."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.datasets import DatasetSpec, load_dataset
from core.training.process import TrainingProcess
from core.training.progress import ProgressBatch, merge_batches
from core.training.run_progress import RunProgress


@pytest.fixture(scope="module")
def xor():
    return load_dataset(DatasetSpec.synthetic("xor", samples=200, seed=0))


def design(epochs: int = 2, **training) -> Design:
    net = NetworkSpec(2, (DenseSpec(8), ActivationSpec("tanh"), DenseSpec(1),
                          ActivationSpec("sigmoid")))
    return Design(net, TrainConfig(loss="binary_cross_entropy", epochs=epochs,
                                   batch_size=10, **training))


@pytest.fixture
def child():
    process = TrainingProcess()
    process.ensure_started()
    yield process
    process.close()
    assert not process.alive


def collect(run: RunProgress, timeout: float = 30.0):
    """All batches until the run is over: (batches, end, error)."""
    assert run.done.wait(timeout), "no 'done' from the training process"
    batch = run.take_batch()
    return ([batch] if batch is not None else []), run.end, run.error


def until(run: RunProgress, seen: list[ProgressBatch], enough, timeout: float = 20.0) -> None:
    """Take batches into ``seen`` until ``enough(merged)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = run.take_batch()
        if batch is not None:
            seen.append(batch)
            if enough(merge_batches(seen)):
                return
        time.sleep(0.005)
    raise AssertionError("the training process did not get there")


def test_a_run_sends_every_step_once_then_done(child, xor):
    batches, end, error = collect(child.start_run(design(epochs=3), xor))
    assert error == "" and end.reason == "finished"
    merged = merge_batches(batches)
    steps_per_epoch = -(-xor.x_train.shape[0] // 10)
    np.testing.assert_array_equal(merged.steps, np.arange(1, 3 * steps_per_epoch + 1))
    assert len(merged.epoch_snapshots) == 3
    assert merged.weights is not None and set(merged.weights) >= {"layers.0.weight"}
    assert merged.surface is not None  # a 2-D set: the decision surface comes along


def test_the_child_is_reused_and_runs_are_reproducible(child, xor):
    losses = []
    pids = set()
    for _ in range(2):
        batches, _end, _error = collect(child.start_run(design(), xor))
        losses.append(merge_batches(batches).losses)
        pids.add(child._process.pid)
    np.testing.assert_array_equal(losses[0], losses[1])
    assert len(pids) == 1


def test_paused_start_with_one_step_runs_exactly_one(child, xor):
    run = child.start_run(design(epochs=50), xor, paused=True, steps=1)
    seen: list[ProgressBatch] = []
    until(run, seen, lambda merged: merged.steps.size > 0)
    time.sleep(0.3)  # any further step would arrive meanwhile
    child.send(("stop",))
    batches, end, _error = collect(run)
    assert merge_batches(seen + batches).steps.tolist() == [1.0]
    assert end.reason == "stopped"


def test_learning_rate_change_reaches_the_run(child, xor):
    run = child.start_run(design(epochs=10_000, learning_rate=0.1), xor)
    child.send(("config", design(epochs=10_000, learning_rate=0.5).training))
    seen: list[ProgressBatch] = []
    until(run, seen, lambda m: m.learning_rates.size > 0 and m.learning_rates[-1] == 0.5)
    child.send(("stop",))
    _batches, end, _error = collect(run)
    assert end.reason == "stopped"


def test_a_design_that_cannot_train_gives_its_message(child, xor):
    bad = Design(NetworkSpec(2, (DenseSpec(1),)), design().training)  # no final sigmoid
    batches, end, error = collect(child.start_run(bad, xor))
    assert end is None and batches == []
    assert error.startswith("Training could not start: training.loss")
    assert "sigmoid" in error.lower()


def test_a_dead_child_is_reported_and_replaced(xor):
    process = TrainingProcess()
    process.ensure_started()
    run = process.start_run(design(epochs=100_000), xor)
    until(run, [], lambda merged: merged.steps.size > 0)
    process._process.kill()
    _batches, end, error = collect(run)
    # Read as soon as the pipe broke, the exit status was often not there yet.
    assert end is None
    assert error.startswith("The training process stopped unexpectedly at step ")
    assert "(killed by signal SIGKILL)" in error
    assert not process.alive
    _batches, end, _error = collect(process.start_run(design(), xor))  # a new child
    assert end.reason == "finished"
    process.close()


def test_merge_keeps_order_and_newest_views():
    def batch(first: int, n: int, weights=None) -> ProgressBatch:
        steps = np.arange(first, first + n, dtype=float)
        z = np.zeros(n)
        b = ProgressBatch(("l",), steps, z, steps, z, z, steps, z[:, None], z[:, None],
                          z[:, None])
        b.weights = weights
        return b

    merged = merge_batches([batch(1, 3, {"w": 1}), batch(4, 2), batch(6, 1, {"w": 2})])
    assert merged.steps.tolist() == [1, 2, 3, 4, 5, 6]
    assert merged.grad_norms.shape == (6, 1)
    assert merged.weights == {"w": 2}
    assert merge_batches([]) is None


def test_a_paused_run_answers_a_state_request_and_a_run_continues_from_it(child, xor):
    run = child.start_run(design(epochs=50, optimizer="adam"), xor, paused=True, steps=7)
    child.send(("state",))  # may arrive before the 7 steps are done: answered between
    states = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        batch = run.take_batch(through_state=True)
        if batch is not None and batch.train_state is not None:
            states.append(batch.train_state)
            if batch.train_state.step == 7:
                break
            child.send(("state",))
        time.sleep(0.005)
    assert states and states[-1].step == 7 and states[-1].optimizer == "adam"
    child.send(("stop",))
    batches, end, _error = collect(run)
    assert end.reason == "stopped" and end.step == 7
    assert merge_batches(batches).train_state is not None  # the last batch carries one
    # Continued in the child from the state: the uninterrupted run's steps 8, 9, ...
    whole = merge_batches(collect(child.start_run(design(epochs=2, optimizer="adam"),
                                                  xor))[0]).losses
    rest = merge_batches(collect(child.start_run(design(epochs=2, optimizer="adam"), xor,
                                                 resume=states[-1]))[0])
    assert rest.steps[0] == 8
    np.testing.assert_allclose(rest.losses, whole[7:], rtol=1e-5)


def test_exit_statuses_in_words():
    from core.training.process import describe_exit

    assert describe_exit(-9) == "killed by signal SIGKILL"
    assert describe_exit(-11) == "killed by signal SIGSEGV"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(None) == ""
