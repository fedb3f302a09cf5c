"""The training child process: runs, commands, errors, and a child that dies."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.datasets import DatasetSpec, load_dataset
from core.training.process import TrainerProcess
from core.training.progress import ProgressBatch, merge_batches


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
    process = TrainerProcess()
    process.ensure_started()
    yield process
    process.close()
    assert not process.alive


def collect(process: TrainerProcess, timeout: float = 30.0):
    """All batches until "done": (batches, end, error)."""
    batches: list[ProgressBatch] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = process.recv()
        if message[0] == "batch":
            batches.append(message[1])
        else:
            return batches, message[1], message[2]
    raise AssertionError("no 'done' from the training process")


def test_a_run_sends_every_step_once_then_done(child, xor):
    child.send(("run", design(epochs=3), xor, 1, False, 0))
    batches, end, error = collect(child)
    assert error == "" and end.reason == "finished"
    merged = merge_batches(batches)
    steps_per_epoch = -(-xor.x_train.shape[0] // 10)
    np.testing.assert_array_equal(merged.steps, np.arange(1, 3 * steps_per_epoch + 1))
    assert len(merged.epoch_snapshots) == 3
    assert merged.weights is not None and set(merged.weights) >= {"layers.0.weight"}
    assert merged.surface is not None  # a 2-D set: the decision surface comes along


def test_the_child_is_reused_and_runs_are_reproducible(child, xor):
    losses = []
    for _ in range(2):
        child.send(("run", design(), xor, 1, False, 0))
        batches, _end, _error = collect(child)
        losses.append(merge_batches(batches).losses)
    np.testing.assert_array_equal(losses[0], losses[1])


def test_paused_start_with_one_step_runs_exactly_one(child, xor):
    child.send(("run", design(epochs=50), xor, 1, True, 1))
    seen: list[ProgressBatch] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        kind, batch = child.recv()[:2]
        seen.append(batch)
        if merge_batches(seen).steps.size:
            break
    time.sleep(0.3)  # any further step would arrive meanwhile
    child.send(("stop",))
    batches, end, _error = collect(child)
    assert merge_batches(seen + batches).steps.tolist() == [1.0]
    assert end.reason == "stopped"


def test_learning_rate_change_reaches_the_run(child, xor):
    child.send(("run", design(epochs=10_000, learning_rate=0.1), xor, 1, False, 0))
    child.send(("config", design(epochs=10_000, learning_rate=0.5).training))
    seen: list[ProgressBatch] = []
    while True:
        message = child.recv()
        seen.append(message[1])
        rates = merge_batches(seen).learning_rates
        if rates.size and rates[-1] == 0.5:
            break
    child.send(("stop",))
    _batches, end, _error = collect(child)
    assert end.reason == "stopped"


def test_a_design_that_cannot_train_gives_its_message(child, xor):
    bad = Design(NetworkSpec(2, (DenseSpec(1),)), design().training)  # no final sigmoid
    child.send(("run", bad, xor, 1, False, 0))
    batches, end, error = collect(child)
    assert end is None and batches == []
    assert error.startswith("training.loss") and "sigmoid" in error.lower()


def test_a_dead_child_is_reported_and_replaced(xor):
    process = TrainerProcess()
    process.ensure_started()
    process.send(("run", design(epochs=100_000), xor, 1, False, 0))
    assert process.recv()[0] == "batch"
    process._process.kill()
    with pytest.raises((EOFError, OSError)):
        while True:
            process.recv()
    # Read as soon as the pipe breaks, the exit status was often not there yet.
    assert process.how_it_ended() == "killed by signal SIGKILL"
    process.discard()
    process.ensure_started()  # a new child
    process.send(("run", design(), xor, 1, False, 0))
    _batches, end, _error = collect(process)
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
    child.send(("run", design(epochs=50, optimizer="adam"), xor, 1, True, 7))
    child.send(("state",))  # may arrive before the 7 steps are done: answered between
    states = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        batch = child.recv()[1]
        if batch.train_state is not None:
            states.append(batch.train_state)
            if batch.train_state.step == 7:
                break
            child.send(("state",))
    assert states and states[-1].step == 7 and states[-1].optimizer == "adam"
    child.send(("stop",))
    batches, end, _error = collect(child)
    assert end.reason == "stopped" and end.step == 7
    assert merge_batches(batches).train_state is not None  # the last batch carries one
    # Continued in the child from the state: the uninterrupted run's steps 8, 9, ...
    child.send(("run", design(epochs=2, optimizer="adam"), xor, 1, False, 0))
    whole = merge_batches(collect(child)[0]).losses
    child.send(("run", design(epochs=2, optimizer="adam"), xor, 1, False, 0, states[-1]))
    rest = merge_batches(collect(child)[0])
    assert rest.steps[0] == 8
    np.testing.assert_allclose(rest.losses, whole[7:], rtol=1e-5)


def test_exit_statuses_in_words():
    from core.training.process import describe_exit

    assert describe_exit(-9) == "killed by signal SIGKILL"
    assert describe_exit(-11) == "killed by signal SIGSEGV"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(None) == ""
