"""The training child process: runs, commands, errors, a child that dies, a child that
does not answer, data loaded in the child, and the handle used from several threads."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.datasets import DatasetSpec, load_dataset
from core.datasets.source import DatasetSource, to_send
from core.training.process import TrainingProcess
from core.training.progress import ProgressBatch, merge_batches
from core.training.run_progress import RunProgress
from core.training.trainer import Trainer


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
    # ... with every neuron's output over the same grid (the diagram's heatmaps).
    assert merged.neurons is not None and merged.neurons.x_range == merged.surface.x_range
    assert merged.neurons.columns["layers.0"].values.shape[0] == 8


def test_the_misclassified_samples_come_with_the_views(child, xor):
    d = design(epochs=2, learning_rate=0.05)
    batches, end, error = collect(child.start_run(d, xor))
    assert error == "" and end.reason == "finished"
    wrong = merge_batches(batches).misclassified
    headless = Trainer(d, xor)
    list(headless.run())
    expected = headless.misclassified()
    assert wrong is not None and wrong.total == expected.total > 0
    for name in ("index", "true", "predicted"):
        np.testing.assert_array_equal(getattr(wrong, name), getattr(expected, name))
    np.testing.assert_allclose(wrong.probability, expected.probability, rtol=1e-5)


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


# ------------------------------------------------------------ data loaded in the child

def xor_csv(path, rows: int = 200):
    """A CSV file of the XOR quadrants: x1, x2, label."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (rows, 2))
    label = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    lines = ["x1,x2,label"] + [f"{a:.6f},{b:.6f},{c}" for (a, b), c in zip(x, label,
                                                                         strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_source_is_loaded_and_trained_in_the_child(child, tmp_path):
    xor_csv(tmp_path / "quadrants.csv")
    spec = DatasetSpec.csv("quadrants.csv", target="label", task="classification")
    loaded = load_dataset(spec, tmp_path)
    source = DatasetSource.of(spec, tmp_path, loaded)
    assert len(pickle.dumps(source)) < 4096  # a description, not the arrays
    batches, end, error = collect(child.start_run(design(epochs=2), source))
    assert error == "" and end.reason == "finished"
    steps_per_epoch = -(-loaded.x_train.shape[0] // 10)  # the child's data is the window's
    assert merge_batches(batches).steps.size == 2 * steps_per_epoch


def test_a_missing_csv_file_gives_a_clear_message(child, tmp_path):
    path = xor_csv(tmp_path / "gone.csv")
    spec = DatasetSpec.csv(str(path), target="label", task="classification")
    source = DatasetSource.of(spec, None, load_dataset(spec))
    path.unlink()
    batches, end, error = collect(child.start_run(design(), source))
    assert end is None and batches == []
    assert error.startswith("Training could not start: cannot read ")
    assert "gone.csv" in error and "Traceback" not in error
    # The child is still there for the next run.
    xor_csv(path)  # the same rows again
    _batches, end, _error = collect(child.start_run(design(), source))
    assert end.reason == "finished"


def test_a_csv_file_changed_since_it_was_loaded_is_refused(child, tmp_path):
    path = xor_csv(tmp_path / "edited.csv", rows=200)
    spec = DatasetSpec.csv(str(path), target="label", task="classification")
    source = DatasetSource.of(spec, None, load_dataset(spec))
    xor_csv(path, rows=150)  # edited on disk after the window read it
    _batches, end, error = collect(child.start_run(design(), source))
    assert end is None
    assert "edited.csv changed since the window loaded it" in error


def test_only_a_design_dataset_is_sent_as_a_description(xor, tmp_path):
    assert to_send(xor, None, None) is xor  # made in memory: no description
    sent = to_send(xor, DatasetSpec.synthetic("xor", samples=200, seed=0).to_dict(), tmp_path)
    assert isinstance(sent, DatasetSource) and sent.base_dir is None  # not a CSV: no folder
    assert sent.load().x_train.shape == xor.x_train.shape


# ------------------------------------------------------------ threads and timeouts

@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions raised in any thread during the test."""
    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    return errors


def test_send_racing_discard_never_fails(thread_errors):
    # Before: send() checked that the pipe was there and then used it, so a discard() on
    # another thread in between raised AttributeError ('NoneType' has no 'send').
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    process = TrainingProcess()
    ctx = multiprocessing.get_context("spawn")
    stop = threading.Event()
    results: list[bool] = []

    def sender() -> None:
        while not stop.is_set():
            results.append(process.send(("pause",)))

    def plug_in() -> None:
        """A pipe in place of a child's: its far end is closed, so a send may fail."""
        far, near = ctx.Pipe(duplex=False)
        far.close()
        with process._lock:
            process._commands = near

    thread = threading.Thread(target=sender)
    try:
        thread.start()
        for _ in range(3000):
            plug_in()
            process.discard()
    finally:
        stop.set()
        thread.join(10)
        sys.setswitchinterval(interval)
    assert thread_errors == []
    assert results and not any(results)  # no child: every send says so, none raises


def test_discarding_a_child_that_does_not_answer_ends_its_run(thread_errors, xor):
    process = TrainingProcess()
    process.ensure_started()
    run = process.start_run(design(epochs=100_000), xor)
    until(run, [], lambda merged: merged.steps.size > 0)
    os.kill(process._process.pid, signal.SIGSTOP)  # alive, but answers nothing
    process.send(("stop",))
    assert not run.done.wait(1.0)
    process.discard()  # ends it while the reader is blocked on its pipe
    assert run.done.wait(10)
    assert run.end is None and "stopped unexpectedly" in run.error
    assert not process.alive and thread_errors == []
    _batches, end, _error = collect(process.start_run(design(), xor))  # a new child
    assert end.reason == "finished"
    process.close()
