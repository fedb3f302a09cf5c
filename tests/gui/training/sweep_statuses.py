"""SweepStatus objects built from a real sweep, as the driver builds them: a real Optuna
study (run with the one run loop and the median pruner on a small XOR design), its
trials as TrialRows (the pruned ones with the pruner's threshold), two trials' recorded
curves as the running trials, and Optuna's importances."""

from __future__ import annotations

import dataclasses
import math

import optuna
from optuna.trial import TrialState

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.sweeps.space import Space, parse_space
from core.sweeps.status import LiveTrial, SweepStatus, TrialRow
from core.sweeps.study import run_sweep
from core.sweeps.thresholds import prune_threshold

SPACE = {"parameters": {"training.learning_rate": {"low": 1e-4, "high": 1.0, "log": True},
                        "layers[0].units": {"low": 2, "high": 8},
                        "training.optimizer": {"choices": ["sgd", "adam"]}},
         "objective": "val_loss", "sampler": "random", "pruner": "median"}
_STATES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
           TrialState.FAIL: "fail", TrialState.RUNNING: "running",
           TrialState.WAITING: "waiting"}


@dataclasses.dataclass
class RealSweep:
    """A finished real sweep: its study, space, and each trial's run record."""

    study: optuna.Study
    space: Space
    records: dict


def run_real_sweep(tmp_path, trials: int = 30, epochs: int = 6) -> RealSweep:
    design = load_design(resource_path("examples", "xor.json"))
    design = dataclasses.replace(
        design, training=dataclasses.replace(design.training, epochs=epochs),
        dataset={**design.dataset, "samples": 120})
    dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
    space = parse_space(SPACE, design)
    records = {}
    study = run_sweep(design, dataset, space, trials, tmp_path / "s.journal", "lr-search",
                      lambda r: records.__setitem__(r.number, r.record))
    return RealSweep(study, space, records)


def trial_row(sweep: RealSweep, t: optuna.trial.FrozenTrial, state: str | None = None
              ) -> TrialRow:
    state = state or _STATES[t.state]
    values = tuple(sorted((int(s), float(v)) for s, v in t.intermediate_values.items()))
    value = math.nan
    if state == "complete":
        value = float(t.value)
    elif state == "pruned" and values:
        value = values[-1][1]
    seconds = (t.datetime_complete - t.datetime_start).total_seconds() \
        if t.datetime_complete and t.datetime_start else 0.0
    pruned_step = t.last_step if state == "pruned" else None
    threshold = prune_threshold(sweep.study, t.number, pruned_step, sweep.space) \
        if pruned_step is not None else None
    return TrialRow(t.number, dict(t.params), state, value, seconds, values, pruned_step,
                    threshold, worker=f"worker {t.number % 2 + 1}")


def status_of(sweep: RealSweep, upto: int | None = None, running: int = 0,
              importances: bool = True, state: str = "running") -> SweepStatus:
    """The study as a status after its first ``upto`` trials finished (all if None),
    with the next ``running`` trials shown running with their recorded curves."""
    trials = sweep.study.get_trials(deepcopy=False)
    upto = len(trials) if upto is None else upto
    rows = [trial_row(sweep, t) for t in trials[:upto]]
    live = []
    for t in trials[upto:upto + running]:
        row = trial_row(sweep, t, "running")
        rows.append(dataclasses.replace(row, value=math.nan, values=row.values[:2]))
        record = sweep.records[t.number]
        half = max(len(record.loss_curve) // 2, 1)
        live.append(LiveTrial(t.number, dict(t.params), record.layer_names,
                              record.loss_curve[:half], record.grad_curves[:half]))
    shares = {}
    complete = [t for t in trials[:upto] if t.state == TrialState.COMPLETE]
    if importances and len(complete) >= 4:
        shares = optuna.importance.get_param_importances(
            sweep.study, evaluator=optuna.importance.PedAnovaImportanceEvaluator())
    status = SweepStatus(
        study_name="lr-search", storage="s.db", objective=sweep.space.objective,
        direction=sweep.space.direction, parameters=sweep.space.parameters,
        trials=tuple(rows), live=tuple(live), importances=dict(shares), budget=len(trials),
        time_limit=None, elapsed=sum(r.seconds for r in rows), state=state)
    # The pruner's name, for the prune lines' words (the status may carry it).
    if "pruner" in {f.name for f in dataclasses.fields(status)}:
        status = dataclasses.replace(status, pruner=sweep.space.pruner)
    return status
