"""SweepStatus objects from a real sweep, as the driver makes them: a real in-process
``SweepDriver`` (the one run loop, Optuna with the median pruner, a small XOR design)
runs to its budget; its final status holds every trial as the driver saw it (the
pruned ones with the pruner's threshold), and its results' run records give the curves
shown as running trials. ``status_of`` cuts it back to a moment during the sweep."""

from __future__ import annotations

import dataclasses
import math

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.sweeps.driver import SweepDriver, TrialResult
from core.sweeps.plan import SweepPlan
from core.sweeps.space import parse_space
from core.sweeps.status import LiveTrial, SweepStatus

SPACE = {"parameters": {"training.learning_rate": {"low": 1e-4, "high": 1.0, "log": True},
                        "layers[0].units": {"low": 2, "high": 8},
                        "training.optimizer": {"choices": ["sgd", "adam"]}},
         "objective": "val_loss", "sampler": "random", "pruner": "median"}


@dataclasses.dataclass
class RealSweep:
    """A finished real sweep: the driver's last status and each trial's run record."""

    final: SweepStatus
    records: dict


def run_real_sweep(tmp_path, trials: int = 30, epochs: int = 6) -> RealSweep:
    design = load_design(resource_path("examples", "xor.json"))
    design = dataclasses.replace(
        design, training=dataclasses.replace(design.training, epochs=epochs),
        dataset={**design.dataset, "samples": 120})
    dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
    plan = SweepPlan(parse_space(SPACE, design), trials, workers=1,
                     study_name="lr-search", storage=str(tmp_path / "s.db"))
    results: list[TrialResult] = []
    driver = SweepDriver(design, dataset, plan, in_process=True, on_result=results.append)
    driver.run()
    return RealSweep(driver.status(), {r.number: r.record for r in results})


def status_of(sweep: RealSweep, upto: int | None = None, running: int = 0,
              importances: bool = True, state: str = "running") -> SweepStatus:
    """The sweep as it stood after its first ``upto`` trials finished (all if None),
    with the next ``running`` trials running, half through their recorded curves."""
    final = sweep.final
    trials = final.trials
    upto = len(trials) if upto is None else upto
    rows = list(trials[:upto])
    live = []
    for row in trials[upto:upto + running]:
        record = sweep.records[row.number]
        half = max(len(record.loss_curve) // 2, 1)
        rows.append(dataclasses.replace(row, state="running", value=math.nan,
                                        values=row.values[:2], pruned_step=None,
                                        threshold=None))
        live.append(LiveTrial(row.number, dict(row.params), record.layer_names,
                              record.loss_curve[:half], record.grad_curves[:half]))
    complete = sum(r.state == "complete" for r in rows)
    shares = final.importances if importances and complete >= 4 else {}
    return dataclasses.replace(final, trials=tuple(rows), live=tuple(live),
                               importances=dict(shares), state=state,
                               elapsed=sum(r.seconds for r in rows))
