"""Run history: bounded recording, dict round trip and its checks, design differences,
CSV export, and runs inside project files."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import replace

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, FileFormatError
from core.datasets import DatasetSpec, load_dataset
from core.design.edit import insert_layer
from core.files.design_file import load_design
from core.files.project import Project, load_project, parse_project, project_bytes, save_project
from core.records.diff import design_diff
from core.records.history import HISTORY_KEYS
from core.records.record import GRAD_ROWS, LOSS_ROWS, RunRecord, next_run_name
from core.records.recorder import RunRecorder
from core.records.snapshots import EpochSnapshot, RunEnd
from core.records.table import RUN_COLUMNS, history_to_csv, runs_to_csv
from core.resources import resource_path
from core.training.progress import ProgressBatch, ProgressBatcher
from core.training.trainer import Trainer

NAMES = ("layers.0", "layers.2", "layers.4")


@pytest.fixture(scope="module")
def xor():
    return load_design(resource_path("examples", "xor.json"))


def real_run(design, lr: float, epochs: int = 5) -> RunRecord:
    """A real short run of ``design`` recorded from ProgressBatcher batches."""
    design = replace(design, training=replace(design.training, learning_rate=lr,
                                              epochs=epochs))
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    batcher = ProgressBatcher(trainer.layer_names)
    recorder = RunRecorder(trainer.layer_names)
    end = None
    for i, snap in enumerate(trainer.run()):
        batcher.add(snap)
        end = snap if isinstance(snap, RunEnd) else None
        if i % 37 == 0 or end is not None:
            recorder.add(batcher.take())
    return recorder.finish(end, design, "2025-01-02T03:04:05", 1.5, name=f"lr {lr}")


def synthetic_batch(first: int, k: int, epoch_every: int = 100) -> ProgressBatch:
    steps = np.arange(first, first + k, dtype=np.float64)
    ones = np.ones(k)
    grads = np.column_stack([steps * 0 + 1.0, steps * 0 + 2.0, steps * 0 + 3.0])
    epochs = [EpochSnapshot(int(s) // epoch_every, int(s), 1 / s, 2 / s, 0.5, 0.4,
                            "accuracy", 0.1, 0.0)
              for s in steps if s % epoch_every == 0]
    return ProgressBatch(NAMES, steps, ones, 1 / steps, ones * 0, ones * 0.1, steps.copy(),
                         grads, grads, grads, epochs)


def test_recorder_stays_bounded_over_a_long_run(xor):
    recorder = RunRecorder(NAMES)
    for first in range(1, 1_000_001, 1000):  # a million steps, 10,000 epochs
        recorder.add(synthetic_batch(first, 1000))
    run = recorder.finish(RunEnd("finished", 10_000, 1_000_000, "done"), xor, "", 10.0)
    assert 0 < run.loss_curve.shape[0] <= LOSS_ROWS
    assert 0 < run.grad_curves.shape[0] <= GRAD_ROWS
    assert run.grad_curves.shape[1] == 1 + len(NAMES)
    assert len(run.history) <= 2000
    # Evenly thinned from the start, and the last epoch is kept for the final figures.
    assert run.loss_curve[0, 0] == 1
    assert np.all(np.diff(run.loss_curve[:, 0]) > 0)
    assert run.history[-1]["step"] == 1_000_000
    assert run.loss_curve[-1, 0] == 1_000_000  # the last step too: where the run ended
    assert run.final_train_loss == pytest.approx(1e-6)
    assert (run.steps, run.epochs, run.end_reason) == (1_000_000, 10_000, "finished")


def test_a_continued_run_records_the_saved_history_and_keeps_its_id(xor):
    first = RunRecorder(NAMES)
    first.add(synthetic_batch(1, 300))
    saved = first.finish(None, xor, "", 0.0)
    again = first.finish(RunEnd("unfinished", 0, 300, "saved"), xor, "", 0.0,
                         run_id=saved.id)
    assert again.id == saved.id and again.ended == "unfinished"  # finish changes nothing
    assert first.last_step == 300
    recorder = RunRecorder(NAMES)
    recorder.continue_from(saved.loss_curve, saved.grad_curves, saved.history,
                           saved.metric_name)
    recorder.add(synthetic_batch(301, 200))
    run = recorder.finish(None, xor, "", 0.0)
    assert run.loss_curve[0, 0] == 1 and run.loss_curve[-1, 0] == 500
    assert run.grad_curves[0, 0] == 1 and run.history[-1]["step"] == 500
    assert run.steps == 500


def test_recorder_restarts_when_the_run_is_reinitialised(xor):
    recorder = RunRecorder(NAMES)
    recorder.add(synthetic_batch(1, 500))
    recorder.add(synthetic_batch(1, 50))
    run = recorder.finish(None, xor, "", 0.0)
    assert run.loss_curve.shape[0] == 50
    assert run.end_reason == "stopped"


def test_real_run_figures(xor):
    run = real_run(xor, 0.3)
    assert run.end_reason == "finished" and run.ended == "finished"
    assert run.epochs == 5 and run.steps == 5 * 32
    assert [r["epoch"] for r in run.history] == [1, 2, 3, 4, 5]
    assert run.metric_name == "accuracy"
    assert run.loss_curve.shape == (160, 2)
    assert run.layer_names == NAMES and run.grad_curves.shape == (160, 4)
    assert run.seed == xor.training.seed and run.dataset == "xor"
    assert run.best_val_loss <= run.final_val_loss
    assert 0 <= run.best_val_metric <= 1


def test_round_trip(xor):
    run = real_run(xor, 0.3)
    run.note = "tanh, lr 0.3"
    run.history[1]["val_loss"] = math.nan
    run.loss_curve[3, 1] = math.inf  # non-finite values travel as null and come back NaN
    back = RunRecord.from_dict(run.to_dict())
    assert back.design == run.design
    for name in ("id", "name", "note", "seed", "started", "duration", "end_reason",
                 "end_message", "steps", "epochs", "metric_name", "layer_names"):
        assert getattr(back, name) == getattr(run, name), name
    assert math.isnan(back.history[1]["val_loss"])
    assert math.isnan(back.loss_curve[3, 1])
    keep = np.isfinite(run.loss_curve)
    np.testing.assert_array_equal(back.loss_curve[keep], run.loss_curve[keep])
    np.testing.assert_array_equal(back.grad_curves, run.grad_curves)


@pytest.mark.parametrize("change,field", [
    ({"design": {"format": "nope"}}, "run.design"),
    ({"end_reason": "exploded"}, "run.end_reason"),
    ({"seed": -1}, "run.seed"),
    ({"steps": 1.5}, "run.steps"),
    ({"duration": "long"}, "run.duration"),
    ({"started": "yesterday"}, "run.started"),
    ({"name": 3}, "run.name"),
    ({"loss_curve": [[1, 2, 3]]}, "run.loss_curve[0]"),
    ({"loss_curve": [[1, "x"]]}, "run.loss_curve[0]"),
    ({"loss_curve": [[1, 0.5]] * (LOSS_ROWS + 1)}, "run.loss_curve"),
    ({"grad_curves": [[1, 2]]}, "run.grad_curves[0]"),
    ({"history": [{"epoch": 1}]}, "run.history[0]"),
    ({"layer_names": "layers.0"}, "run.layer_names"),
    ({"metric_name": "f1"}, "run.metric_name"),
    ({"colour": "red"}, "run.colour"),
])
def test_bad_dicts_name_the_field(xor, change, field):
    d = {**RunRecord(xor, layer_names=NAMES).to_dict(), **change}
    with pytest.raises(FileFormatError, match=r"^" + field.replace("[", r"\[")):
        RunRecord.from_dict(d)


def test_missing_id_and_not_an_object(xor):
    d = RunRecord(xor).to_dict()
    del d["id"]
    with pytest.raises(FileFormatError, match="run.id"):
        RunRecord.from_dict(d)
    with pytest.raises(FileFormatError, match="run: must be an object"):
        RunRecord.from_dict([])


def test_bad_dataset_choice_inside_a_run(xor):
    d = RunRecord(xor).to_dict()
    d["design"]["dataset"] = {"kind": "synthetic", "name": "xor", "noise": 3}
    with pytest.raises(FileFormatError, match="dataset.noise"):
        RunRecord.from_dict(d)


def test_design_diff_on_real_edits(xor):
    assert design_diff(xor, xor) == []
    relu = replace(xor, network=replace(xor.network, layers=(
        xor.network.layers[0], ActivationSpec("relu"), *xor.network.layers[2:])))
    assert design_diff(xor, relu) == ["activation function (layers[1]): tanh -> relu"]
    lr = replace(xor, training=replace(xor.training, learning_rate=1.0))
    assert design_diff(xor, lr) == ["learning rate: 0.3 -> 1.0"]
    net = insert_layer(xor.network, (2,), DenseSpec(16))
    net = insert_layer(net, (3,), ActivationSpec("relu"))
    added = design_diff(xor, replace(xor, network=net))
    assert added[0] == "layers: 6 -> 8"
    assert "added layers[2]: Dense 16" in added and len(added) == 3
    removed = design_diff(replace(xor, network=net), xor)
    assert removed[0] == "layers: 8 -> 6" and "removed layers[2]: Dense 16" in removed
    noisy = replace(xor, dataset={**xor.dataset, "noise": 0.3, "name": "circles"})
    assert design_diff(xor, noisy) == ["dataset name: xor -> circles",
                                       "dataset noise: 0.1 -> 0.3"]
    iris = replace(xor, dataset={"kind": "builtin", "name": "iris", "seed": 0,
                                 "val_fraction": 0.2})
    assert design_diff(xor, iris) == ["dataset: xor (synthetic) -> iris (builtin)"]
    units = replace(xor, network=replace(xor.network, layers=(
        DenseSpec(12), *xor.network.layers[1:])))
    assert design_diff(xor, units) == ["dense units (layers[0]): 8 -> 12"]


def test_runs_to_csv_has_the_panel_columns(xor):
    runs = [real_run(xor, 0.3, epochs=2), real_run(xor, 3.0, epochs=2)]
    runs[1].note = 'fast, "very"'
    rows = list(csv.DictReader(io.StringIO(runs_to_csv(runs))))
    assert list(rows[0]) == [k for k, _ in RUN_COLUMNS] + ["metric", "started", "note", "id"]
    assert [r["name"] for r in rows] == ["lr 0.3", "lr 3.0"]
    assert rows[1]["note"] == 'fast, "very"' and rows[0]["dataset"] == "xor"
    assert float(rows[0]["final_train_loss"]) == pytest.approx(runs[0].final_train_loss)
    assert rows[0]["ended"] == "finished" and rows[0]["epochs"] == "2"
    hist = list(csv.DictReader(io.StringIO(history_to_csv(runs))))
    assert len(hist) == 4 and list(hist[0]) == ["run", "run_id", *HISTORY_KEYS]
    assert hist[0]["epoch"] == "1"


def test_next_run_name(xor):
    assert next_run_name([]) == "Run 1"
    assert next_run_name([RunRecord(xor, name="Run 2"), RunRecord(xor, name="mine")]) == \
        "Run 3"


def test_project_keeps_runs(xor, tmp_path):
    runs = [real_run(xor, 0.03, epochs=2), real_run(xor, 3.0, epochs=3)]
    path = tmp_path / "p.bpsproj"
    save_project(Project(xor, runs=runs), path)
    back = load_project(path)
    assert [r.id for r in back.runs] == [r.id for r in runs]
    assert [r.name for r in back.runs] == ["lr 0.03", "lr 3.0"]
    assert back.runs[1].epochs == 3 and back.runs[1].design == runs[1].design
    np.testing.assert_array_equal(back.runs[0].loss_curve, runs[0].loss_curve)


def test_old_projects_without_runs_still_load(xor):
    assert parse_project(project_bytes(Project(xor)), "p").runs == []


def test_bad_run_in_a_project_names_the_run_and_field(xor):
    import json

    from core.files.safetensors import decode, encode

    tensors, meta = decode(project_bytes(Project(xor, runs=[RunRecord(xor)])), "x")
    body = json.loads(meta["project"])
    body["runs"][0]["steps"] = "many"
    with pytest.raises(FileFormatError, match=r"p.bpsproj: runs\[0\].steps"):
        parse_project(encode(tensors, {**meta, "project": json.dumps(body)}), "p.bpsproj")
    body["runs"] = {"a": 1}
    with pytest.raises(FileFormatError, match="runs must be a list"):
        parse_project(encode(tensors, {**meta, "project": json.dumps(body)}), "p.bpsproj")


def record_both_ways(design, sizes, seed=0):
    """A real run recorded from its snapshots one by one, and from ProgressBatcher batches
    of the given sizes (cycled): the two records."""
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)),
                      detail_every=3)
    snaps = list(trainer.run())
    one = RunRecorder(trainer.layer_names)
    for snap in snaps:
        one.add(snap)
    batched = RunRecorder(trainer.layer_names)
    batcher = ProgressBatcher(trainer.layer_names)
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(snaps):
        k = int(rng.choice(sizes))
        for snap in snaps[i:i + k]:
            batcher.add(snap)
        batched.add(batcher.take())
        i += k
    return (one.finish(None, design, "", 0.0, run_id="x"),
            batched.finish(None, design, "", 0.0, run_id="x"))


def test_snapshots_and_batches_record_the_same_run(xor, monkeypatch):
    """One recorder, one rule: the CLI, compare and lessons feed snapshots, the window
    feeds batches of whatever size the pipe delivered; the records are identical, also
    once every curve has been thinned (small caps force it)."""
    from core.records import recorder as recorder_module

    monkeypatch.setattr(recorder_module, "LOSS_ROWS", 50)
    monkeypatch.setattr(recorder_module, "GRAD_ROWS", 20)
    monkeypatch.setattr(recorder_module, "EPOCH_ROWS", 6)
    design = replace(xor, training=replace(xor.training, epochs=15))
    one, batched = record_both_ways(design, [1, 2, 7, 64, 300])
    assert one.to_dict() == batched.to_dict()
    assert one.end_reason == "finished" and one.steps == 15 * 32
    assert one.loss_curve.shape[0] <= 50 and one.loss_curve[-1, 0] == 15 * 32
    assert 0 < one.grad_curves.shape[0] <= 20 and one.history[-1]["epoch"] == 15


def test_recorder_from_snapshots_restarts_on_reinit_and_ignores_warnings(xor):
    from core.records.snapshots import RunWarning, StepSnapshot

    recorder = RunRecorder(("a",))
    for step in range(1, 101):
        recorder.add(StepSnapshot(0, step, 1.0, 0.0, 0.1, 1.0, (2.0,), (1.0,), (0.1,)))
    recorder.add(RunWarning(0, 100, "diverging"))
    for step in range(1, 11):  # re-initialised: step 1 again
        recorder.add(StepSnapshot(0, step, 0.5, 0.0, 0.1, 1.0))
    run = recorder.finish(None, xor, "", 0.0)
    np.testing.assert_array_equal(run.loss_curve[:, 0], np.arange(1, 11))
    assert run.grad_curves.shape == (0, 2)  # the detail rows before the restart are gone
    assert run.end_reason == "stopped" and run.steps == 10


def test_a_run_reinitialised_midway_records_the_same_both_ways(xor):
    """Reset while training: the record holds only the run after the restart, whether it
    was fed snapshot by snapshot or in batches that straddle the restart."""
    from core.training.trainer import TrainingControl

    design = replace(xor, training=replace(xor.training, epochs=3))
    trainer = Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))
    control = TrainingControl()
    snaps = []
    for snap in trainer.run(control):
        snaps.append(snap)
        if len(snaps) == 50:  # in epoch 2: 32 steps, an epoch, 17 more steps
            control.reinitialise()
    one = RunRecorder(trainer.layer_names)
    for snap in snaps:
        one.add(snap)
    batched = RunRecorder(trainer.layer_names)
    batcher = ProgressBatcher(trainer.layer_names)
    for i, snap in enumerate(snaps):
        batcher.add(snap)
        if i % 40 == 39 or i == len(snaps) - 1:  # the batch of snapshots 40-79 straddles it
            batched.add(batcher.take())
    a = one.finish(None, design, "", 0.0, run_id="x")
    b = batched.finish(None, design, "", 0.0, run_id="x")
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.loss_curve[:, 0], np.arange(1, 3 * 32 + 1))
    assert [r["epoch"] for r in a.history] == [1, 2, 3] and a.steps == 96
