"""The trainer: snapshots, controls between steps, stopping rules, divergence."""

from __future__ import annotations

import math
import queue
import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, Design, DesignError, NetworkSpec, TrainConfig
from core.records.snapshots import EpochSnapshot, RunEnd, StepSnapshot
from core.training.trainer import Trainer, TrainingControl


def xor_data(n: int = 200, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = ((X[:, 0] * X[:, 1]) > 0).astype(np.int64)
    k = int(n * 0.8)
    return SimpleNamespace(task="classification", x_train=X[:k], y_train=y[:k],
                           x_val=X[k:], y_val=y[k:], n_classes=2)


def regression_data(n: int = 100, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    Y = (X @ np.array([[1.5], [-2.0]])) + 0.1
    k = int(n * 0.8)
    return SimpleNamespace(task="regression", x_train=X[:k], y_train=Y[:k], x_val=X[k:],
                           y_val=Y[k:], n_classes=0)


def xor_design(**training) -> Design:
    net = NetworkSpec(2, (DenseSpec(8), ActivationSpec("tanh"), DenseSpec(1),
                          ActivationSpec("sigmoid")))
    cfg = TrainConfig(loss="binary_cross_entropy", learning_rate=0.5, batch_size=16,
                      epochs=5, seed=3)
    return Design(net, replace(cfg, **training))


def reg_design(**training) -> Design:
    net = NetworkSpec(2, (DenseSpec(16), ActivationSpec("relu"), DenseSpec(1)))
    return Design(net, replace(TrainConfig(loss="mse", learning_rate=0.01, batch_size=10,
                                           epochs=3, seed=0), **training))


def test_snapshots_per_step_and_epoch_and_end():
    data = xor_data()
    snaps = list(Trainer(xor_design(), data).run())
    steps = [s for s in snaps if isinstance(s, StepSnapshot)]
    epochs = [s for s in snaps if isinstance(s, EpochSnapshot)]
    assert isinstance(snaps[-1], RunEnd) and snaps[-1].reason == "finished"
    per_epoch = math.ceil(160 / 16)
    assert len(steps) == 5 * per_epoch
    assert [e.epoch for e in epochs] == [1, 2, 3, 4, 5]
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps[0].grad_norms) == 2  # two Dense layers
    assert all(isinstance(v, float) for v in steps[0].grad_norms)
    assert epochs[-1].metric_name == "accuracy"
    assert 0.0 <= epochs[-1].val_metric <= 1.0
    assert epochs[-1].train_loss < epochs[0].train_loss


def test_same_seed_bit_identical_losses_and_different_seed_differs():
    data = xor_data()
    a = [s.loss for s in Trainer(xor_design(), data).run() if isinstance(s, StepSnapshot)]
    b = [s.loss for s in Trainer(xor_design(), data).run() if isinstance(s, StepSnapshot)]
    c = [s.loss for s in Trainer(xor_design(seed=4), data).run()
         if isinstance(s, StepSnapshot)]
    assert a == b
    assert a != c


def test_detail_every_thins_the_norms():
    snaps = [s for s in Trainer(xor_design(), xor_data(), detail_every=5).run()
             if isinstance(s, StepSnapshot)]
    assert [bool(s.grad_norms) for s in snaps[:10]] == [False] * 4 + [True] + [False] * 4 + [True]


def test_stop_takes_effect_before_the_next_step():
    control = TrainingControl()
    gen = Trainer(xor_design(epochs=100), xor_data()).run(control)
    for _ in range(3):
        next(gen)
    control.stop()
    end = next(gen)
    assert isinstance(end, RunEnd) and end.reason == "stopped"
    assert end.step == 3
    with pytest.raises(StopIteration):
        next(gen)


def _drive(trainer: Trainer, control: TrainingControl) -> tuple[queue.Queue, threading.Thread]:
    out: queue.Queue = queue.Queue()

    def work() -> None:
        for snap in trainer.run(control):
            out.put(snap)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return out, thread


def test_pause_step_resume_stop_from_another_thread():
    control = TrainingControl()
    control.pause()
    out, thread = _drive(Trainer(xor_design(epochs=1000), xor_data()), control)
    with pytest.raises(queue.Empty):
        out.get(timeout=0.3)  # paused before the first step: nothing arrives
    control.step()
    first = out.get(timeout=5)
    assert isinstance(first, StepSnapshot) and first.step == 1
    with pytest.raises(queue.Empty):
        out.get(timeout=0.3)  # exactly one step, then paused again
    control.step(3)
    got = [out.get(timeout=5) for _ in range(3)]
    assert [s.step for s in got] == [2, 3, 4]
    with pytest.raises(queue.Empty):
        out.get(timeout=0.2)
    control.resume()
    assert out.get(timeout=5).step == 5
    control.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    rest = []
    while not out.empty():
        rest.append(out.get())
    assert isinstance(rest[-1], RunEnd) and rest[-1].reason == "stopped"


def test_learning_rate_change_takes_effect_at_the_next_step():
    control = TrainingControl()
    design = reg_design(epochs=50, learning_rate=0.05)
    trainer = Trainer(design, regression_data())
    gen = trainer.run(control)
    snap = next(gen)
    assert snap.learning_rate == 0.05
    before = trainer.network.flat_params.copy()
    control.set_config(replace(design.training, learning_rate=1e-9))
    snap = next(gen)
    assert snap.learning_rate == 1e-9
    moved = np.abs(trainer.network.flat_params - before).max()
    assert 0 < moved < 1e-7  # the tiny rate was used for this very step
    control.set_config(replace(design.training, learning_rate=0.05))
    before = trainer.network.flat_params.copy()
    next(gen)
    assert np.abs(trainer.network.flat_params - before).max() > 1e-5


def test_fixed_settings_are_not_changed_mid_run():
    trainer = Trainer(reg_design(), regression_data())
    ignored = trainer.apply_config(replace(trainer.config, optimizer="adam", batch_size=3,
                                           l2=0.1))
    assert set(ignored) == {"optimizer", "batch_size"}
    assert trainer.config.l2 == 0.1 and trainer.config.optimizer == "sgd"


def test_reinitialise_restarts_identically():
    data = xor_data()
    first = [s.loss for s in Trainer(xor_design(epochs=3), data).run()
             if isinstance(s, StepSnapshot)]
    control = TrainingControl()
    gen = Trainer(xor_design(epochs=3), data).run(control)
    for _ in range(4):
        next(gen)
    control.reinitialise()
    again = [s.loss for s in gen if isinstance(s, StepSnapshot)]
    assert again == first


@pytest.mark.parametrize("how", ["learning_rate", "gain"])
def test_divergence_is_caught_in_the_step_it_appears(how):
    # The blow-up rule is off: this is about values that become non-finite.
    if how == "learning_rate":
        design = reg_design(learning_rate=1e3, epochs=50, blow_up="off")
    else:
        net = NetworkSpec(2, tuple(x for _ in range(6) for x in
                                   (DenseSpec(16, gain=1e5), ActivationSpec("relu")))
                          + (DenseSpec(1),))
        design = Design(net, TrainConfig(loss="mse", learning_rate=0.01, batch_size=10,
                                         epochs=50, blow_up="off"))
    trainer = Trainer(design, regression_data())
    last_finite = trainer.network.flat_params.copy()
    end = None
    with np.errstate(over="ignore", invalid="ignore"):
        for snap in trainer.run():
            if isinstance(snap, RunEnd):
                end = snap
                break
            if isinstance(snap, StepSnapshot):
                assert math.isfinite(snap.loss)
                last_finite = trainer.network.flat_params.copy()
    assert end is not None and end.reason == "diverged"
    assert end.what in ("loss", "gradient", "weight update", "weights")
    assert "learning rate" in end.message.lower() and "clipping" in end.hint
    assert np.all(np.isfinite(trainer.network.flat_params))
    np.testing.assert_array_equal(trainer.network.flat_params, last_finite)
    assert end.layer.startswith("layers.")
    assert f"in {end.layer}" in end.message


def test_gradient_clipping_keeps_the_large_rate_finite():
    end = list(Trainer(reg_design(learning_rate=1e3, clip_norm=1e-3, epochs=3),
                       regression_data()).run())[-1]
    assert end.reason == "finished"


def test_target_loss_stops_early():
    snaps = list(Trainer(reg_design(learning_rate=0.05, epochs=500, target_loss=0.05),
                         regression_data()).run())
    end = snaps[-1]
    assert end.reason == "target_reached"
    last_epoch = [s for s in snaps if isinstance(s, EpochSnapshot)][-1]
    assert last_epoch.train_loss <= 0.05 and last_epoch.epoch < 500


def test_early_stopping_restores_best_weights():
    data = regression_data()
    # A huge rate with clipping makes the validation loss wander, so patience runs out.
    design = reg_design(learning_rate=0.5, clip_value=0.05, epochs=300, patience=3,
                        optimizer="sgd")
    trainer = Trainer(design, data)
    snaps = list(trainer.run())
    end = snaps[-1]
    assert end.reason == "early_stopped"
    epochs = [s for s in snaps if isinstance(s, EpochSnapshot)]
    best = min(epochs, key=lambda s: s.val_loss)
    val_loss, _ = trainer.evaluate(trainer.Xv, trainer.Yv)
    assert val_loss == pytest.approx(best.val_loss, rel=1e-5)
    assert f"epoch {best.epoch}" in end.message


def test_schedules_change_the_rate_by_epoch():
    trainer = Trainer(reg_design(schedule="step", step_size=2, gamma=0.5, epochs=6),
                      regression_data())
    rates = [s.learning_rate for s in trainer.run() if isinstance(s, EpochSnapshot)]
    assert rates == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025])
    cos = Trainer(reg_design(schedule="cosine", epochs=4), regression_data())
    assert [cos.learning_rate_for(e) for e in range(5)] == pytest.approx(
        [0.01, 0.01 * (1 + math.cos(math.pi / 4)) / 2, 0.005,
         0.01 * (1 + math.cos(3 * math.pi / 4)) / 2, 0.0])


def test_regression_reports_r2():
    snaps = list(Trainer(reg_design(learning_rate=0.05, epochs=40), regression_data()).run())
    last = [s for s in snaps if isinstance(s, EpochSnapshot)][-1]
    assert last.metric_name == "r2" and last.val_metric > 0.9


def test_mismatched_outputs_and_inputs_are_named():
    data = xor_data()
    net = NetworkSpec(2, (DenseSpec(3), ActivationSpec("softmax")))
    with pytest.raises(DesignError, match="2 classes but the network has 3"):
        Trainer(Design(net, TrainConfig(loss="softmax_cross_entropy")), data)
    with pytest.raises(DesignError, match="3 input features"):
        bad = SimpleNamespace(**{**vars(data), "x_train": np.zeros((10, 3)),
                                 "y_train": np.zeros(10, dtype=np.int64)})
        Trainer(xor_design(), bad)
    with pytest.raises(DesignError, match="does not fit a regression"):
        Trainer(xor_design(), regression_data())


def test_multiclass_epochs_carry_the_validation_confusion_counts():
    from core.datasets import DatasetSpec, load_dataset
    from core.training.progress import ProgressBatcher
    from core.training.targets import confusion_matrix

    data = load_dataset(DatasetSpec.builtin("iris", seed=1, val_fraction=0.25))
    assert data.n_classes > 2
    design = Design(NetworkSpec(data.n_features, (DenseSpec(8), ActivationSpec("relu"),
                                    DenseSpec(data.n_classes), ActivationSpec("softmax"))),
                    TrainConfig(loss="softmax_cross_entropy", epochs=2, batch_size=16))
    trainer = Trainer(design, data)
    batcher = ProgressBatcher(trainer.layer_names)
    epochs = []
    for snap in trainer.run(TrainingControl()):
        batcher.add(snap)
        if isinstance(snap, EpochSnapshot):
            epochs.append(snap)
    last = epochs[-1].val_confusion
    _, out = trainer.evaluate(trainer.Xv, trainer.Yv)
    expected = confusion_matrix(out, data.y_val, data.n_classes, trainer.stepper.logits)
    np.testing.assert_array_equal(last, expected)
    assert last.sum() == data.x_val.shape[0]
    np.testing.assert_array_equal(batcher.take().confusion, last)  # the newest epoch's


def test_binary_and_regression_epochs_carry_no_confusion_counts():
    data = xor_data()
    epochs = [s for s in Trainer(xor_design(epochs=1), data).run(TrainingControl())
              if isinstance(s, EpochSnapshot)]
    assert epochs and all(e.val_confusion is None for e in epochs)


@pytest.mark.parametrize("targets", [1, 3])
def test_regression_with_an_empty_validation_split_trains(targets):
    # Before: encode_targets raised "cannot reshape array of size 0" for (0, 1) targets.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    data = SimpleNamespace(task="regression", x_train=X, y_train=np.repeat(X[:, :1], targets, 1),
                           x_val=np.zeros((0, 2)), y_val=np.zeros((0, targets)), n_classes=0)
    net = NetworkSpec(2, (DenseSpec(8), ActivationSpec("tanh"), DenseSpec(targets)))
    design = Design(net, TrainConfig(loss="mse", learning_rate=0.05, batch_size=8, epochs=3))
    snaps = list(Trainer(design, data).run())
    epochs = [s for s in snaps if isinstance(s, EpochSnapshot)]
    assert snaps[-1].reason == "finished" and len(epochs) == 3
    assert "no validation set (validation share 0)" in snaps[-1].message
    assert all(math.isnan(e.val_loss) and math.isnan(e.val_metric) for e in epochs)
    assert all(math.isfinite(e.train_loss) and math.isfinite(e.train_metric) for e in epochs)


def test_train_step_never_applies_a_non_finite_update():
    """TrainStep.run is the trainer's step: a NaN input or an overflowing update is
    reported (what, where) and the weights stay exactly as they were."""
    import numpy as np

    from core.training.build import build_network
    from core.training.step import TrainStep

    spec = NetworkSpec(2, (DenseSpec(4), ActivationSpec("tanh"), DenseSpec(1)))
    net = build_network(spec, seed=0, dtype=np.float32)
    step = TrainStep(net, TrainConfig(loss="mse", optimizer="sgd", learning_rate=0.1))
    X = np.ones((4, 2), np.float32)
    Y = np.zeros((4, 1), np.float32)
    before = net.flat_params.copy()
    bad = X.copy()
    bad[1, 0] = np.nan
    with np.errstate(invalid="ignore", over="ignore"):
        result = step.run(bad, Y)
    assert result.failed == "loss" and result.layers == ("layers.0",)
    np.testing.assert_array_equal(net.flat_params, before)
    step.optimizer.learning_rate = 1e39  # finite gradients, an update past float32
    with np.errstate(invalid="ignore", over="ignore"):
        result = step.run(X, Y + 1.0)
    assert result.failed == "weight update" and result.layers == ("layers.0", "layers.2")
    np.testing.assert_array_equal(net.flat_params, before)
    step.optimizer.learning_rate = 0.1
    assert step.run(X, Y).failed == ""
    assert not np.array_equal(net.flat_params, before)
