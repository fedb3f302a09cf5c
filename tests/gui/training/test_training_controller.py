"""The background training run driven from the GUI thread: start, pause, step, resume,
stop, reset, live settings, divergence, and shutdown.

Every wait is on a signal the controller emits from the GUI thread (see the platform
notes: waiting on worker-thread signals is unsafe)."""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.datasets import DatasetSpec, load_dataset
from core.datasets.source import DatasetSource
from core.files.design_file import load_design
from gui.training.controller import IDLE, PAUSED, RUNNING, TrainingController

ROOT = Path(__file__).resolve().parents[3]


def example(name: str, **training):
    design = load_design(ROOT / "resources" / "examples" / name)
    if training:
        design = replace(design, training=replace(design.training, **training))
    return design, load_dataset(DatasetSpec.from_dict(design.dataset))


@pytest.fixture
def controller(qtbot):
    c = TrainingController()
    batches = []
    c.batch_received.connect(batches.append)
    c.batches = batches
    yield c
    c.close()
    assert not c.process.alive


def steps_in(batches) -> list[int]:
    return [int(s) for b in batches for s in b.steps]


def test_start_delivers_batches_then_finishes(qtbot, controller):
    design, data = example("xor.json", epochs=3)
    with qtbot.waitSignal(controller.run_finished, timeout=20000) as done:
        assert controller.start(design, data)
        assert controller.state == RUNNING
    end = done.args[0]
    assert end.reason == "finished"
    steps = steps_in(controller.batches)
    assert steps == list(range(1, steps[-1] + 1))  # every step, in order, none twice
    assert controller.state == IDLE and not controller.active
    assert any(b.weights is not None for b in controller.batches)
    assert any(b.surface is not None for b in controller.batches)
    assert sum(len(b.epoch_snapshots) for b in controller.batches) == 3


def test_pause_step_resume_stop(qtbot, controller):
    design, data = example("xor.json", epochs=100000)
    with qtbot.waitSignal(controller.batch_received, timeout=10000):
        controller.start(design, data)
    controller.pause()
    assert controller.state == PAUSED
    qtbot.wait(300)  # let anything in flight arrive
    seen = len(steps_in(controller.batches))
    qtbot.wait(400)
    assert len(steps_in(controller.batches)) == seen  # nothing while paused
    last = steps_in(controller.batches)[-1]
    with qtbot.waitSignal(controller.batch_received, timeout=5000):
        controller.step()
    qtbot.wait(300)
    assert steps_in(controller.batches)[-1] == last + 1  # exactly one step
    assert len(steps_in(controller.batches)) == seen + 1
    controller.resume()
    assert controller.state == RUNNING
    qtbot.waitUntil(lambda: steps_in(controller.batches)[-1] > last + 50, timeout=10000)
    with qtbot.waitSignal(controller.run_finished, timeout=5000) as done:
        controller.stop()
    assert done.args[0].reason == "stopped"
    # Stopped within one step: no step arrived after the RunEnd's step.
    assert steps_in(controller.batches)[-1] == done.args[0].step


def test_step_from_idle_runs_one_step(qtbot, controller):
    design, data = example("spiral.json")
    with qtbot.waitSignal(controller.batch_received, timeout=10000):
        controller.start(design, data, paused=True, steps=1)
    qtbot.wait(300)
    assert steps_in(controller.batches) == [1]
    assert controller.state == PAUSED


def test_learning_rate_change_reaches_the_next_step(qtbot, controller):
    design, data = example("xor.json", epochs=100000)
    with qtbot.waitSignal(controller.batch_received, timeout=10000):
        controller.start(design, data, paused=True, steps=1)
    qtbot.waitUntil(lambda: steps_in(controller.batches) == [1], timeout=5000)
    controller.apply_settings(replace(design.training, learning_rate=0.0123))
    controller.step()
    # Wait for the step itself, not the next batch: applying settings while paused
    # wakes the trainer, which sends fresh model views (a batch with no step) first;
    # under load that batch arrives in a frame of its own.
    qtbot.waitUntil(lambda: steps_in(controller.batches)[-1] == 2, timeout=5000)
    stepped = [b for b in controller.batches if 2 in b.steps]
    assert len(stepped) == 1
    rates = stepped[0].learning_rates[list(stepped[0].steps).index(2)]
    assert rates == pytest.approx(0.0123)


def test_reinitialise_restarts_from_step_one(qtbot, controller):
    design, data = example("xor.json", epochs=100000)
    with qtbot.waitSignal(controller.batch_received, timeout=10000):
        controller.start(design, data, paused=True, steps=3)
    qtbot.waitUntil(lambda: steps_in(controller.batches)[-1:] == [3], timeout=5000)
    first_loss = controller.batches[0].losses[0]
    controller.reinitialise()
    with qtbot.waitSignal(controller.batch_received, timeout=5000) as got:
        controller.step()
    assert got.args[0].steps[-1] == 1
    assert got.args[0].losses[-1] == first_loss  # same seed, same first batch


def test_divergence_stops_with_a_message(qtbot, controller):
    design, data = example("sine_regression.json", learning_rate=1000.0, optimizer="sgd")
    with qtbot.waitSignal(controller.run_finished, timeout=20000) as done:
        controller.start(design, data)
    end = done.args[0]
    assert end.reason == "diverged"
    assert "step" in end.message and "clipping" in end.message


def test_data_that_cannot_reach_the_process_fails_with_a_message(qtbot, controller):
    design, data = example("xor.json", epochs=3)
    object.__setattr__(data, "unsendable", lambda: None)  # a lambda cannot be pickled
    with qtbot.waitSignal(controller.run_failed) as failed:
        assert not controller.start(design, data)
    assert failed.args[0].startswith("Training could not start: it could not be handed")
    assert controller.state == IDLE and not controller.active


def test_a_training_process_that_dies_ends_the_run_and_is_replaced(qtbot, controller):
    # Before: "Training could not start: The training process ended unexpectedly", with
    # the exit code missing in 6 of 15 trials (read before the child had been reaped).
    for _trial in range(3):
        design, data = example("xor.json", epochs=100_000)
        with qtbot.waitSignal(controller.batch_received, timeout=20000,
                              check_params_cb=lambda b: b.steps.size > 0):
            assert controller.start(design, data)
        failures, ends = [], []
        controller.run_failed.connect(failures.append)
        controller.run_finished.connect(ends.append)
        with qtbot.waitSignal(controller.run_finished, timeout=20000):
            controller.process._process.kill()
        controller.run_failed.disconnect(failures.append)
        controller.run_finished.disconnect(ends.append)
        assert len(failures) == 1 and ends == [None]
        message = failures[0]
        m = re.match(r"The training process stopped unexpectedly at step ([\d,]+) ", message)
        assert m and int(m.group(1).replace(",", "")) >= 1, message
        assert "(killed by signal SIGKILL)" in message
        assert "The next run starts a new training process." in message
        assert "could not start" not in message
        assert controller.state == IDLE
    design, data = example("xor.json", epochs=2)
    with qtbot.waitSignal(controller.run_finished, timeout=20000) as done:
        assert controller.start(design, data)  # a new process
    assert done.args[0].reason == "finished"


def test_a_design_that_cannot_train_says_it_could_not_start(qtbot, controller):
    design, data = example("xor.json", loss="mse")
    data = replace(data, x_train=data.x_train[:, :1], x_val=data.x_val[:, :1])  # 1 feature
    with qtbot.waitSignal(controller.run_failed, timeout=20000) as failed:
        assert controller.start(design, data)
    assert failed.args[0].startswith("Training could not start: network.inputs")


def test_closing_the_window_during_a_run_exits_cleanly():
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
w = MainWindow()
w.open_example("spiral.json")
from dataclasses import replace
d = w.document.design
w.document.set_design(replace(d, training=replace(d.training, epochs=1_000_000)), "epochs")
w.document.undo_stack.setClean()  # closing must not ask to save
w.show()
w.training.train()
def close():
    active = w.training.controller.active
    w.close()
    app.quit()
    if not active:
        print("the run had already ended", file=sys.stderr)
QTimer.singleShot(1500, close)
sys.exit(app.exec())
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env["HOME"] = str(ROOT / ".pytest_cache")  # keep QSettings out of the user's home
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "already ended" not in out.stderr
    assert "QThread" not in out.stderr
    assert "Traceback" not in out.stderr


def test_shutdown_ends_a_training_process_that_does_not_answer(qtbot, controller):
    errors: list[BaseException] = []
    hook, threading.excepthook = threading.excepthook, lambda a: errors.append(a.exc_value)
    try:
        design, data = example("xor.json", epochs=100_000)
        with qtbot.waitSignal(controller.batch_received, timeout=20000,
                              check_params_cb=lambda b: b.steps.size > 0):
            assert controller.start(design, data)
        os.kill(controller.process._process.pid, signal.SIGSTOP)  # alive, answers nothing
        ends = []
        controller.run_finished.connect(ends.append)
        assert controller.shutdown(timeout_ms=500)  # ended, which ends the run
        assert ends == [None] and controller.state == IDLE and not controller.active
        assert not controller.process.alive
        design, data = example("xor.json", epochs=2)
        with qtbot.waitSignal(controller.run_finished, timeout=20000) as done:
            assert controller.start(design, data)  # a new process
        assert done.args[0].reason == "finished"
    finally:
        threading.excepthook = hook
    assert errors == []


def test_a_run_ended_by_shutdown_does_not_end_the_next_run(qtbot, controller):
    # Before: shutdown() ended the run, and the old thread's queued "finished" then ended
    # whichever run had started since.
    ends = []
    controller.run_finished.connect(ends.append)
    design, data = example("xor.json", epochs=100_000)
    assert controller.start(design, data)
    assert controller.shutdown()
    assert len(ends) == 1
    with qtbot.waitSignal(controller.batch_received, timeout=20000,
                          check_params_cb=lambda b: b.steps.size > 0):
        assert controller.start(design, data)
    qtbot.wait(500)  # anything left over from the first run would arrive meanwhile
    assert controller.active and controller.state == RUNNING and len(ends) == 1
    with qtbot.waitSignal(controller.run_finished, timeout=10000) as done:
        controller.stop()
    assert done.args[0].reason == "stopped" and len(ends) == 2


def quadrants_csv(path: Path, rows: int = 300) -> Path:
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (rows, 2))
    label = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    body = "\n".join(f"{a:.5f},{b:.5f},{c}" for (a, b), c in zip(x, label, strict=True))
    path.write_text("x1,x2,label\n" + body + "\n")
    return path


def test_a_csv_design_trains_on_data_the_training_process_loads(qtbot, shown_window,
                                                                tmp_path, monkeypatch):
    window = shown_window
    window.open_example("xor.json")
    path = quadrants_csv(tmp_path / "quadrants.csv")
    d = window.document.design
    spec = DatasetSpec.csv(str(path), target="label", task="classification")
    window.document.set_design(replace(d, dataset=spec.to_dict(),
                                       training=replace(d.training, epochs=3)), "csv")
    qtbot.waitUntil(lambda: window.dataset_state.dataset is not None, timeout=20000)
    controller = window.training.controller
    sent = []
    start_run = controller.process.start_run
    monkeypatch.setattr(controller.process, "start_run",
                        lambda design, data, *a: sent.append(data) or start_run(design, data,
                                                                                *a))
    with qtbot.waitSignal(controller.run_finished, timeout=30000) as done:
        window.training.train()
    assert done.args[0].reason == "finished"
    assert isinstance(sent[0], DatasetSource) and sent[0].spec == spec
    assert len(pickle.dumps(sent[0])) < 4096  # the description, not the arrays
    # A training process that still holds the data trains it again; a new one (the old
    # one idled out) must read the file, which has gone since the window read it.
    controller.process.close()
    path.unlink()
    with qtbot.waitSignal(controller.run_failed, timeout=30000) as failed:
        window.training.train()
    message = failed.args[0]
    assert message.startswith("Training could not start: cannot read ")
    assert "quadrants.csv" in message and "Traceback" not in message
    assert "quadrants.csv" in window.banner.text()
