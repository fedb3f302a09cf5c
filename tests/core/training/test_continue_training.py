"""Continuing a run from a saved state: the steps after it are those the uninterrupted
run takes; project files keep the state (optimizer, counters, random streams) and still
load without it; a broken state in a file is refused with the field named."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from core import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    Design,
    DesignError,
    DropoutSpec,
    FileFormatError,
    NetworkSpec,
    TrainConfig,
)
from core.files.project import Project, parse_project, project_bytes
from core.files.safetensors import decode, encode
from core.records.snapshots import RunEnd, StepSnapshot
from core.training.trainer import Trainer, TrainingControl


def xor_data(n: int = 200, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = ((X[:, 0] * X[:, 1]) > 0).astype(np.int64)
    k = int(n * 0.8)
    return SimpleNamespace(task="classification", x_train=X[:k], y_train=y[:k],
                           x_val=X[k:], y_val=y[k:], n_classes=2)


def design(optimizer: str = "adam", epochs: int = 4, **training) -> Design:
    # Dropout and batch normalisation: the dropout stream and the running statistics
    # must come back too, not only the weights.
    net = NetworkSpec(2, (DenseSpec(8), BatchNormSpec(), ActivationSpec("tanh"),
                          DropoutSpec(0.2), DenseSpec(1), ActivationSpec("sigmoid")))
    cfg = TrainConfig(loss="binary_cross_entropy", optimizer=optimizer, learning_rate=0.05,
                      batch_size=16, epochs=epochs, seed=5)
    return Design(net, replace(cfg, **training))


def losses(trainer: Trainer, control: TrainingControl | None = None,
           stop_at: int = 0) -> list[float]:
    out = []
    for snap in trainer.run(control):
        if isinstance(snap, StepSnapshot):
            out.append(snap.loss)
            if snap.step == stop_at and control is not None:
                control.stop()
    return out


def through_file(trainer: Trainer, d: Design) -> Project:
    """The trainer's state saved in a project and read back."""
    state = trainer.state()
    data = project_bytes(Project(d, state.weights, train_state=state))
    return parse_project(data, "p.bpsproj")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_continuing_mid_epoch_from_a_saved_project_repeats_the_uninterrupted_run(optimizer):
    data = xor_data()
    d = design(optimizer)
    uninterrupted = losses(Trainer(d, data))
    first = Trainer(d, data)
    control = TrainingControl()
    before = losses(first, control, stop_at=23)  # 10 steps an epoch: mid-epoch 3
    loaded = through_file(first, d)
    assert loaded.train_state.step == 23 and loaded.train_state.position == 48
    after = losses(Trainer(d, data, resume=loaded.train_state))
    assert len(before) + len(after) == len(uninterrupted)
    np.testing.assert_allclose(before + after, uninterrupted, rtol=1e-5)


def test_a_finished_run_continues_for_another_epochs_and_counts_on():
    data = xor_data()
    done = Trainer(design(epochs=2), data)
    losses(done)
    loaded = through_file(done, design(epochs=2))
    resumed = Trainer(design(epochs=2), data, resume=loaded.train_state)
    snaps = list(resumed.run())
    steps = [s.step for s in snaps if isinstance(s, StepSnapshot)]
    assert steps[0] == 21 and steps[-1] == 40  # 10 steps an epoch, counting on
    assert snaps[-1] == RunEnd("finished", 4, 40, "Finished 4 epochs (40 steps).")
    np.testing.assert_allclose(
        losses(Trainer(design(epochs=2), data, resume=loaded.train_state)),
        losses(Trainer(design(epochs=4), data))[20:], rtol=1e-5)


def test_raising_epochs_after_a_finished_run_trains_to_the_new_count():
    data = xor_data()
    done = Trainer(design(epochs=2), data)
    losses(done)
    resumed = Trainer(design(epochs=3), data, resume=done.state())
    assert resumed.epoch_offset == 0
    assert [s for s in resumed.run() if isinstance(s, RunEnd)][0].epoch == 3


def test_weights_without_optimizer_state_continue_from_those_weights():
    # Older project files and the command line's hold weights and history only.
    data = xor_data()
    first = Trainer(design(), data)
    losses(first, TrainingControl(), stop_at=20)
    state = first.state()
    bare = replace(state, optimizer_state={}, iterations=0, shuffle_rng=None,
                   dropout_rng=None)
    resumed = Trainer(design(), data, resume=bare)
    fresh = Trainer(design(), data)
    x = resumed.X[:5]
    np.testing.assert_array_equal(resumed.network.predict(x), first.network.predict(x))
    assert not np.array_equal(resumed.network.predict(x), fresh.network.predict(x))
    assert next(s for s in resumed.run() if isinstance(s, StepSnapshot)).step == 21


def test_a_state_of_another_optimizer_or_dataset_is_refused_with_the_reason():
    data = xor_data()
    first = Trainer(design("adam"), data)
    losses(first, TrainingControl(), stop_at=13)
    with pytest.raises(DesignError, match="the saved run used adam, this design uses sgd"):
        Trainer(design("sgd"), data, resume=first.state())
    with pytest.raises(DesignError, match="the dataset has changed"):
        Trainer(design("adam"), xor_data(n=40), resume=first.state())


def test_state_is_taken_between_steps_on_request_also_while_paused():
    data = xor_data()
    trainer = Trainer(design(), data)
    control = TrainingControl()
    got = []
    control.state_hook = lambda: got.append(trainer.state())
    control.pause()
    control.step(3)
    worker = threading.Thread(target=lambda: losses(trainer, control))
    worker.start()
    try:
        deadline = threading.Event()
        while trainer.step_count < 3 and not deadline.wait(0.01):
            pass
        control.request_state()  # paused, no steps left: must still be answered
        while not got and not deadline.wait(0.01):
            pass
    finally:
        control.stop()
        worker.join(10)
    assert got and got[0].step == 3 and got[0].position == 48


# -------------------------------------------------------------- file format


@pytest.fixture(scope="module")
def saved() -> tuple[dict, dict, dict]:
    d = design("adam")
    trainer = Trainer(d, xor_data())
    losses(trainer, TrainingControl(), stop_at=7)
    tensors, meta = decode(project_bytes(Project(d, trainer.state().weights,
                                                 train_state=trainer.state())), "x")
    return tensors, meta, json.loads(meta["project"])


def test_the_state_is_version_2_with_optimizer_tensors(saved):
    tensors, meta, body = saved
    assert meta["version"] == "2"
    assert {"optimizer.m", "optimizer.v"} <= set(tensors)
    assert body["train_state"]["step"] == 7 and body["train_state"]["optimizer"] == "adam"
    # 128-bit generator state as a decimal string, exact in any JSON reader.
    assert isinstance(body["train_state"]["shuffle_rng"]["state"], str)


def test_a_version_1_file_loads_without_a_state(saved):
    tensors, meta, body = saved
    old = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    body = {k: v for k, v in body.items() if k != "train_state"}
    loaded = parse_project(encode(old, {**meta, "version": "1",
                                        "project": json.dumps(body)}), "old.bpsproj")
    assert loaded.train_state is None and loaded.weights is not None


def _broken(saved, tensor_change=None, state_change=None, drop_weights=False) -> bytes:
    tensors, meta, body = saved
    tensors = dict(tensors)
    if tensor_change:
        tensors.update(tensor_change)
    if drop_weights:
        tensors = {k: v for k, v in tensors.items() if not k.startswith("weights.")}
    body = json.loads(json.dumps(body))
    for key, value in (state_change or {}).items():
        body["train_state"][key] = value
    return encode(tensors, {**meta, "project": json.dumps(body)})


@pytest.mark.parametrize("kwargs, words", [
    ({"tensor_change": {"optimizer.m": np.zeros(3, np.float32)}}, "optimizer.m: must be ("),
    ({"tensor_change": {"optimizer.m": np.zeros(
        design().network.parameter_count(), np.float64)}}, "float32"),
    ({"tensor_change": {"optimizer.m": np.full(
        design().network.parameter_count(), np.nan, np.float32)}}, "NaN"),
    ({"tensor_change": {"optimizer.velocity": np.zeros(3, np.float32)}}, "adam keeps m, v"),
    ({"state_change": {"optimizer": "lbfgs"}}, "train_state.optimizer: unknown"),
    ({"state_change": {"step": -1}}, "train_state.step: must be a non-negative integer"),
    ({"state_change": {"position": 1e300}}, "train_state.position"),
    ({"state_change": {"extra": 1}}, "train_state.extra: unknown key"),
    ({"state_change": {"shuffle_rng": {"bit_generator": "MT19937"}}}, "shuffle_rng"),
    ({"state_change": {"shuffle_rng": {"bit_generator": "PCG64", "state": "9" * 5000,
                                       "inc": "1", "has_uint32": 0, "uinteger": 0}}},
     "shuffle_rng.state: must be a decimal string"),
    ({"drop_weights": True}, "train_state needs the weights"),
])
def test_a_broken_state_is_refused_naming_the_field(saved, kwargs, words):
    with pytest.raises(FileFormatError) as info:
        parse_project(_broken(saved, **kwargs), "p.bpsproj")
    assert str(info.value).startswith("p.bpsproj: ") and words in str(info.value)
