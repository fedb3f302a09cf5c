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
    plainly in this process (trainer, ``run_session``, ``RunRecorder``: a run as the
    window records it), against ``SweepDriver(in_process=True)`` (the same plus Optuna's
    ask, report and tell on the SQLite storage), rounds alternated. The figure judged is
    CPU time of this thread spent inside Optuna and the storage (``OptunaClock`` wraps
    the calls the driver makes), as a share of a plain trial's CPU time: CPU time, not
    wall time, because this 2-core machine is shared and wall times swing by 2x. The
    whole sweep's CPU and wall overhead, and 1 worker process against plain (the worker
    seam too: the data sent and loaded, progress through the pipe) are printed beside
    it. Target: Optuna + storage <= 5 % of a 2 s trial.

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
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.datasets import DatasetSpec  # noqa: E402
from core.datasets.source import DatasetSource  # noqa: E402
from core.design.spec import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig  # noqa: E402,E501
from core.records.recorder import RunRecorder  # noqa: E402
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


def plain_run(design: Design, dataset) -> None:
    """One run as the window records it, without a sweep: trainer, run loop, recorder."""
    trainer = Trainer(design, dataset)
    recorder = RunRecorder(trainer.layer_names)
    end = run_session(trainer, recorder)
    recorder.finish(end, design, datetime.now(), 0.0)


def plain_seconds(design: Design, dataset) -> float:
    """CPU time of one plain headless run of ``design`` (CPU, not wall: the machine is
    shared, and a busy neighbour would stretch the calibration)."""
    c0 = time.thread_time()
    plain_run(design, dataset)
    return time.thread_time() - c0


def calibrate(target: float) -> int:
    """Epochs for which a plain run of the bench design takes about ``target`` s of
    CPU (its wall time on an idle core)."""
    from core.datasets import load_dataset

    probe = bench_design(20)
    data = load_dataset(DatasetSpec.from_dict(probe.dataset))
    plain_seconds(probe, data)  # warm-up
    per_epoch = min(plain_seconds(probe, data) for _ in range(3)) / 20
    return max(5, round(target / per_epoch))


def run_driver(design: Design, data, trials: int, workers: int, in_process: bool,
               folder: str, name: str) -> tuple[float, float, list[Any]]:
    """One sweep, a fresh study in the bench's file: (wall seconds of ``run()``, this
    thread's CPU seconds in it, its results)."""
    from core.sweeps.driver import SweepDriver
    from core.sweeps.plan import SweepPlan

    plan = SweepPlan(bench_space(design), trials=trials, workers=workers, study_name=name,
                     storage=str(Path(folder) / "bench.sweeps.db"))
    driver = SweepDriver(design, data, plan, in_process=in_process)
    t0, c0 = time.perf_counter(), time.thread_time()
    driver.run()
    seconds, cpu = time.perf_counter() - t0, time.thread_time() - c0
    results = driver.take_results()
    bad = [r for r in results if r.state != "complete"]
    if bad or len(results) != trials:
        raise SystemExit(f"{name}: {len(results)} results, not complete: {bad}")
    return seconds, cpu, results


class OptunaClock:
    """This thread's CPU time inside Optuna and the storage, as the driver calls them:
    ask, tell, report, should_prune, user attributes, reading the trials, importances,
    opening and recovering the study. Wraps those functions while in use."""

    def __init__(self) -> None:
        import optuna

        import core.sweeps.driver as driver

        self.seconds = 0.0
        self.by_name: dict[str, float] = {}
        self._saved: list[tuple[object, str, object]] = []
        self._targets = [(optuna.study.Study, n) for n in ("ask", "tell", "get_trials")]
        self._targets += [(optuna.trial.Trial, n) for n in ("report", "should_prune",
                                                             "set_user_attr")]
        self._targets += [(driver, n) for n in ("open_storage", "open_study", "recover",
                                                "importances", "trial_row")]

    def _wrap(self, fn, name: str):
        def timed(*args, **kwargs):
            if self._inside:
                return fn(*args, **kwargs)
            self._inside = True
            c0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                used = time.thread_time() - c0
                self.seconds += used
                self.by_name[name] = self.by_name.get(name, 0.0) + used
                self._inside = False
        return timed

    def __enter__(self) -> OptunaClock:
        self._inside = False
        for owner, name in self._targets:
            fn = getattr(owner, name)
            self._saved.append((owner, name, fn))
            setattr(owner, name, self._wrap(fn, name))
        return self

    def __exit__(self, *_exc) -> None:
        for owner, name, fn in reversed(self._saved):
            setattr(owner, name, fn)
        self._saved.clear()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_parallel(design: Design, trials: int, rounds: int, folder: str) -> dict:
    data = source_of(design)
    rates: dict[int, list[float]] = {1: [], 2: []}
    for r in range(rounds):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            seconds, cpu, _ = run_driver(design, data, trials, workers, False, folder,
                                         f"a{r}w{workers}")
            rates[workers].append(60 * trials / seconds)
            # The driver shares the 2 cores with its workers: its own CPU use matters.
            print(f"  (a) round {r + 1}, {workers} worker(s): {trials} trials in "
                  f"{seconds:.1f} s = {rates[workers][-1]:.1f} trials/min; the driver's "
                  f"thread used {100 * cpu / seconds:.0f} % of a core", flush=True)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    return {"one": one, "two": two, "ratio": two / one}


def bench_overhead(design: Design, trials: int, rounds: int, folder: str) -> dict:
    from core.datasets import load_dataset

    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    wall: dict[str, list[float]] = {"plain": [], "sweep": [], "process": []}
    cpu: dict[str, list[float]] = {"plain": [], "sweep": []}
    inside: list[float] = []  # CPU seconds per trial inside Optuna and the storage
    params: list[dict] = []
    for r in range(rounds):
        order = ("sweep", "plain", "process") if r % 2 == 0 else ("process", "plain", "sweep")
        for what in order:
            if what == "sweep":
                with OptunaClock() as clock:
                    seconds, used, results = run_driver(design, data, trials, 1, True,
                                                        folder, f"b{r}")
                inside.append(clock.seconds / trials)
                parts = sorted(clock.by_name.items(), key=lambda kv: -kv[1])
                print("      in Optuna + storage, ms per trial: " + ", ".join(
                    f"{name} {1e3 * t / trials:.1f}" for name, t in parts if t > 0),
                    flush=True)
                params = [res.params for res in sorted(results, key=lambda x: x.number)]
                wall["sweep"].append(seconds / trials)
                cpu["sweep"].append(used / trials)
            elif what == "process":
                seconds, _, _ = run_driver(design, source_of(design), trials, 1, False,
                                           folder, f"b{r}p")
                wall["process"].append(seconds / trials)
            else:
                if not params:  # the first round's sweep draws them; same seed each time
                    params = [res.params for res in sorted(
                        run_driver(design, data, trials, 1, True, folder, "b-draw")[2],
                        key=lambda x: x.number)]
                t0, c0 = time.perf_counter(), time.thread_time()
                for p in params:
                    plain_run(apply(design, p), data)
                wall["plain"].append((time.perf_counter() - t0) / trials)
                cpu["plain"].append((time.thread_time() - c0) / trials)
        print(f"  (b) round {r + 1}: per trial wall / CPU s: plain {wall['plain'][-1]:.3f} / "
              f"{cpu['plain'][-1]:.3f}, in-process sweep {wall['sweep'][-1]:.3f} / "
              f"{cpu['sweep'][-1]:.3f} (in Optuna + storage {inside[-1]:.3f}), 1 worker "
              f"process {wall['process'][-1]:.3f}", flush=True)
    w = {k: statistics.median(v) for k, v in wall.items()}
    c = {k: statistics.median(v) for k, v in cpu.items()}
    optuna_cpu = statistics.median(inside)
    return {"wall": w, "cpu": c, "inside": optuna_cpu,
            "share": optuna_cpu / c["plain"],
            "cpu_overhead": (c["sweep"] - c["plain"]) / c["plain"],
            "wall_overhead": (w["sweep"] - w["plain"]) / w["plain"],
            "seam": (w["process"] - w["plain"]) / w["plain"]}


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
        # Every sweep below is a study in one file, as a project's sweeps are; making the
        # file (Optuna's tables) is a one-off, timed here.
        from core.sweeps.storage import open_storage

        t0 = time.perf_counter()
        open_storage(str(Path(folder) / "bench.sweeps.db")).close()
        print(f"making the study file: {time.perf_counter() - t0:.2f} s (once per project)",
              flush=True)
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
        met = "met" if b["share"] <= 0.05 else "MISSED"
        print(f"(b) per trial, CPU of this thread: plain run {b['cpu']['plain']:.3f} s; in "
              f"Optuna + storage {1e3 * b['inside']:.0f} ms = {100 * b['share']:.1f} % of it "
              f"(target <= 5 %: {met}); whole in-process sweep "
              f"{100 * b['cpu_overhead']:+.1f} % CPU, {100 * b['wall_overhead']:+.1f} % wall")
        print(f"    1 worker process: {b['wall']['process']:.3f} s a trial against "
              f"{b['wall']['plain']:.3f} s plain ({100 * b['seam']:+.1f} % wall, the worker "
              f"seam included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
