"""Sweeps: parallel speed-up and the cost of Optuna and its storage, side by side.

One design whose trial takes about ``--trial-seconds`` (default 2 s: the epochs are
calibrated at the start with plain ``run_session`` in this process), a random search over
the learning rate (0.01 to 0.1, log) so every trial trains every epoch (no pruning, no
divergence, no early stop), studies in a fresh SQLite file (the window's default local
storage). It prints:

(a) trials per minute of ``SweepDriver`` with 1 worker process against 2 (each a
    ``TrainingProcess``, the window's training child), the wall time of ``run()`` from
    opening the study to the last trial told, worker start-up included; rounds
    alternate 1/2, 2/1. Target: 2 workers >= 1.7x the trials per minute of 1.
(b) the overhead per trial: the same trials (same settings, drawn by the sweep) run
    with plain ``run_session`` in this process, against ``SweepDriver(in_process=True)``
    (the same loop plus Optuna's ask, report and tell and the SQLite storage), rounds
    alternated; and against 1 worker process (the worker seam too: spawning, the data
    sent and loaded, progress through the pipe). Target: Optuna + storage <= 5 % of a
    2 s trial.

Usage::

    cd /work/main && .venv/bin/python bench/sweep.py [--trial-seconds 2] [--trials 8]
        [--rounds 2] [--only a,b]

The machine has 2 cores: (a)'s two workers need both, so other load on the machine
shows as a lower ratio. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.datasets import DatasetSpec  # noqa: E402
from core.datasets.source import DatasetSource  # noqa: E402
from core.design.spec import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig  # noqa: E402,E501
from core.sweeps.space import apply, parse_space  # noqa: E402
from core.training.session import run_session  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

PARAMETER = "training.learning_rate"


def bench_design(epochs: int) -> Design:
    """2-32-32-1 tanh on 1,000 circle points, BCE, SGD, batch 16, ``epochs`` epochs."""
    d, a = DenseSpec, ActivationSpec
    net = NetworkSpec(2, (d(32), a("tanh"), d(32), a("tanh"), d(1), a("sigmoid")))
    cfg = TrainConfig(loss="binary_cross_entropy", optimizer="sgd", learning_rate=0.05,
                      batch_size=16, epochs=epochs)
    data = DatasetSpec.synthetic("circle", 1000, 0.1, 0, 0.2)
    return Design(net, cfg, data.to_dict(), "sweep bench")


def bench_space(design: Design, sampler: str = "random"):
    return parse_space({"parameters": {PARAMETER: {"low": 0.01, "high": 0.1, "log": True}},
                        "objective": "val_loss", "sampler": sampler, "pruner": "none"},
                       design)


def source_of(design: Design) -> DatasetSource:
    """The design's dataset as the window sends it to a worker (a description)."""
    spec = DatasetSpec.from_dict(design.dataset)
    from core.datasets import load_dataset

    return DatasetSource.of(spec, None, load_dataset(spec))


def plain_seconds(design: Design, dataset) -> float:
    """Wall time of one plain headless run of ``design`` (trainer built and run)."""
    t0 = time.perf_counter()
    run_session(Trainer(design, dataset))
    return time.perf_counter() - t0


def calibrate(target: float) -> int:
    """Epochs for which a plain run of the bench design takes about ``target`` s."""
    from core.datasets import load_dataset

    probe = bench_design(20)
    data = load_dataset(DatasetSpec.from_dict(probe.dataset))
    plain_seconds(probe, data)  # warm-up
    per_epoch = min(plain_seconds(probe, data) for _ in range(3)) / 20
    return max(5, round(target / per_epoch))


def run_driver(design: Design, data, trials: int, workers: int, in_process: bool,
               folder: str, name: str) -> tuple[float, list[Any]]:
    """One sweep in a fresh study: (wall seconds of ``run()``, its results)."""
    from core.sweeps.driver import SweepDriver
    from core.sweeps.plan import SweepPlan

    plan = SweepPlan(bench_space(design), trials=trials, workers=workers, study_name=name,
                     storage=str(Path(folder) / f"{name}.sweeps.db"))
    driver = SweepDriver(design, data, plan, in_process=in_process)
    t0 = time.perf_counter()
    driver.run()
    seconds = time.perf_counter() - t0
    results = driver.take_results()
    bad = [r for r in results if r.state != "complete"]
    if bad or len(results) != trials:
        raise SystemExit(f"{name}: {len(results)} results, not complete: {bad}")
    return seconds, results


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_parallel(design: Design, trials: int, rounds: int, folder: str) -> dict:
    data = source_of(design)
    rates: dict[int, list[float]] = {1: [], 2: []}
    for r in range(rounds):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            seconds, _ = run_driver(design, data, trials, workers, False, folder,
                                    f"a{r}w{workers}")
            rates[workers].append(60 * trials / seconds)
            print(f"  (a) round {r + 1}, {workers} worker(s): {trials} trials in "
                  f"{seconds:.1f} s = {rates[workers][-1]:.1f} trials/min", flush=True)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    return {"one": one, "two": two, "ratio": two / one}


def bench_overhead(design: Design, trials: int, rounds: int, folder: str) -> dict:
    from core.datasets import load_dataset

    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    plain: list[float] = []
    swept: list[float] = []
    process: list[float] = []
    params: list[dict] = []
    for r in range(rounds):
        order = ("sweep", "plain", "process") if r % 2 == 0 else ("process", "plain", "sweep")
        for what in order:
            if what == "sweep":
                seconds, results = run_driver(design, data, trials, 1, True, folder,
                                              f"b{r}")
                params = [res.params for res in sorted(results, key=lambda x: x.number)]
                swept.append(seconds / trials)
            elif what == "process":
                seconds, _ = run_driver(design, source_of(design), trials, 1, False,
                                        folder, f"b{r}p")
                process.append(seconds / trials)
            else:
                if not params:  # the first round's sweep draws them; same seed each time
                    _, results = run_driver(design, data, trials, 1, True, folder, "b-draw")
                    params = [res.params for res in sorted(results, key=lambda x: x.number)]
                t0 = time.perf_counter()
                for p in params:
                    run_session(Trainer(apply(design, p), data))
                plain.append((time.perf_counter() - t0) / trials)
        print(f"  (b) round {r + 1}: per trial plain {plain[-1]:.3f} s, in-process sweep "
              f"{swept[-1]:.3f} s, 1 worker process {process[-1]:.3f} s", flush=True)
    p, s, w = (statistics.median(x) for x in (plain, swept, process))
    return {"plain": p, "sweep": s, "process": w, "overhead": (s - p) / p,
            "seam": (w - p) / p}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trial-seconds", type=float, default=2.0)
    parser.add_argument("--trials", type=int, default=8, help="trials per sweep")
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds")
    parser.add_argument("--only", default="a,b")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # Optuna's experimental-feature notes
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"cpus {os.cpu_count()}, load average {load()}; python {sys.version.split()[0]}, "
          f"optuna {optuna.__version__}", flush=True)
    epochs = calibrate(args.trial_seconds)
    design = bench_design(epochs)
    print(f"bench design: 2-32-32-1 tanh, circle 1,000 points (800 to train), batch 16, "
          f"{epochs} epochs (about {args.trial_seconds:g} s a trial); {args.trials} trials a "
          f"sweep, {args.rounds} rounds", flush=True)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        if "a" in args.only:
            out["a"] = bench_parallel(design, args.trials, args.rounds, folder)
        if "b" in args.only:
            out["b"] = bench_overhead(replace(design), args.trials, args.rounds, folder)
    print(f"load average after: {load()}")
    print()
    if "a" in out:
        a = out["a"]
        print(f"(a) trials/min: 1 worker {a['one']:.1f}, 2 workers {a['two']:.1f} = "
              f"{a['ratio']:.2f}x  (target >= 1.7x: {'met' if a['ratio'] >= 1.7 else 'MISSED'})")
    if "b" in out:
        b = out["b"]
        print(f"(b) per trial: plain run_session {b['plain']:.3f} s, in-process sweep "
              f"{b['sweep']:.3f} s: Optuna + storage {100 * b['overhead']:+.1f} % "
              f"(target <= 5 %: {'met' if b['overhead'] <= 0.05 else 'MISSED'}); "
              f"1 worker process {b['process']:.3f} s: {100 * b['seam']:+.1f} % with the "
              f"worker seam")
    return 0


if __name__ == "__main__":
    sys.exit(main())
