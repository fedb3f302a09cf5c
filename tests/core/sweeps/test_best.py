"""A sweep read back from its runs: the settings offered, the best trial (pruned and
diverged ones only when nothing completed), and the settings the trials varied."""

from __future__ import annotations

import dataclasses
import math

from core.datasets import DatasetSpec
from core.design.spec import (
    ActivationSpec,
    DenseSpec,
    Design,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.records.record import RunRecord
from core.sweeps.best import best_trial, record_objective, sweep_settings, varied_params
from core.sweeps.space import apply

DESIGN = Design(NetworkSpec(2, (DenseSpec(8), ActivationSpec("tanh"),
                                ResidualSpec(layers=(DenseSpec(8),)), DenseSpec(2),
                                ActivationSpec("softmax"))),
                TrainConfig(loss="softmax_cross_entropy"),
                DatasetSpec.synthetic("circle").to_dict())


def run(params: dict, val_loss: float, val_metric: float = math.nan,
        end_reason: str = "finished", train_loss: float = 1.0) -> RunRecord:
    history = [{"epoch": 1, "train_loss": 9.0, "val_loss": 9.0, "train_metric": 0.1,
                "val_metric": 0.1},
               {"epoch": 2, "train_loss": train_loss, "val_loss": val_loss,
                "train_metric": 0.5, "val_metric": val_metric}]
    return RunRecord(apply(DESIGN, params), history=history, end_reason=end_reason,
                     sweep="s")


def test_sweep_settings_cover_training_and_every_layer():
    names = [s.name for s in sweep_settings(DESIGN)]
    assert names[0] == "training.loss"
    assert "training.learning_rate" in names and "training.nesterov" in names
    assert "layers[0].units" in names and "layers[2].layers[0].units" in names
    assert "layers[2].projection" in names
    assert not any(n.startswith("layers[1].") and n != "layers[1].function" for n in names)
    lr = next(s for s in sweep_settings(DESIGN) if s.name == "training.learning_rate")
    assert lr.layer is None and lr.info.log and lr.value == DESIGN.training.learning_rate


def test_the_objective_is_the_last_epochs_with_the_training_set_standing_in():
    assert record_objective(run({}, 0.25), "val_loss") == 0.25
    assert record_objective(run({}, math.nan, train_loss=0.5), "val_loss") == 0.5
    assert record_objective(run({}, 0.25, val_metric=0.9), "val_accuracy") == 0.9
    assert math.isnan(record_objective(RunRecord(DESIGN), "val_loss"))


def test_the_best_trial_is_a_complete_one_in_the_objectives_direction():
    a = run({"training.learning_rate": 0.1}, 0.3, val_metric=0.7)
    b = run({"training.learning_rate": 0.01}, 0.2, val_metric=0.6)
    pruned = run({"training.learning_rate": 1.0}, 0.1, end_reason="stopped")
    blown = run({"training.learning_rate": 5.0}, math.nan, end_reason="diverged")
    assert best_trial([a, b, pruned, blown]) is b
    assert best_trial([a, b, pruned], "val_accuracy") is a
    assert best_trial([pruned, blown]) is pruned  # nothing completed
    assert best_trial([blown]) is None and best_trial([]) is None


def test_varied_params_are_what_differs_among_the_trials():
    a = run({"training.learning_rate": 0.1, "layers[2].layers[0].units": 4}, 0.3)
    b = run({"training.learning_rate": 0.01, "layers[2].layers[0].units": 4}, 0.2)
    c = run({"training.learning_rate": 0.01, "layers[2].layers[0].units": 16}, 0.4)
    assert varied_params([a, b, c], b) == {"training.learning_rate": 0.01,
                                           "layers[2].layers[0].units": 4}
    assert varied_params([a], a) == {}
    # Put into the design, they give the trial's design back.
    assert apply(DESIGN, varied_params([a, b, c], c)) == dataclasses.replace(c.design)
