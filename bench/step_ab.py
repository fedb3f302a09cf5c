"""A/B of the training step and the trainer against another revision, in one process.

Loads ``core/training/step.py`` and ``core/training/trainer.py`` as they are at ``--base``
(a git revision) beside the working tree's, and times both on the same models and data
with rounds alternated A/B, B/A, ... under one BLAS thread, so a busy machine slows both
alike (separate runs of ``bench/trainer.py`` on a shared machine differ by 2x from noise
alone). Prints µs per step, median and best of the rounds, and the median of the
per-round ratios new/old (below 1: the working tree is faster).

The old trainer runs against today's other modules, so this compares the two files,
not two whole trees.

Usage::

    .venv/bin/python bench/step_ab.py [--base REV] [--rounds N]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import trainer as bench  # noqa: E402  (bench/trainer.py: its models and data)
from threadpoolctl import threadpool_limits  # noqa: E402

from core import TrainConfig, build_network  # noqa: E402
from core.datasets import DatasetSpec, load_dataset  # noqa: E402
from core.files.design_file import load_design  # noqa: E402
from core.resources import resource_path  # noqa: E402
from core.training.step import TrainStep  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


def old_module(rev: str, path: str, name: str, folder: Path):
    """``path`` as it is at ``rev``, imported as module ``name``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    file = folder / f"{name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def ab(old, new, rounds: int) -> str:
    a, b = [], []
    for r in range(rounds):
        pair = (old, new) if r % 2 == 0 else (new, old)
        for f in pair:
            (a if f is old else b).append(f())
    ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
    return (f"old {statistics.median(a):9.1f} (best {min(a):9.1f})  new "
            f"{statistics.median(b):9.1f} (best {min(b):9.1f})  new/old {ratio:.3f}")


def step_us(cls, m, pool, n: int) -> float:
    net = build_network(m.spec(), bench.WEIGHT_SEED, dtype=np.float32)
    step = cls(net, TrainConfig(loss=m.loss, optimizer="sgd", learning_rate=m.lr,
                                batch_size=m.batch))
    xs, ys = pool[0], pool[1]
    for i in range(20):
        step.run(xs[i % bench.POOL], ys[i % bench.POOL])
    t = time.perf_counter()
    for i in range(n):
        step.run(xs[i % bench.POOL], ys[i % bench.POOL])
    return (time.perf_counter() - t) / n * 1e6


def trainer_us(cls, design, data, detail: int) -> float:
    trainer = cls(design, data, detail_every=detail)
    t = time.perf_counter()
    for _ in trainer.run():
        pass
    return (time.perf_counter() - t) / trainer.step_count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="house")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        old_step = old_module(args.base, "core/training/step.py", "old_step", Path(tmp))
        old_trainer = old_module(args.base, "core/training/trainer.py", "old_trainer",
                                 Path(tmp))
        print(f"TrainStep.run, µs per step, {args.base} (old) against the working tree (new)")
        for m, n in zip(bench.MODELS[:3], (3000, 60, 300), strict=True):
            pool = bench.make_pool(m)
            print(f"  ({m.key}) {m.title:46} " + ab(
                lambda m=m, pool=pool, n=n: step_us(old_step.TrainStep, m, pool, n),
                lambda m=m, pool=pool, n=n: step_us(TrainStep, m, pool, n), args.rounds))
        print("Trainer.run over whole runs, µs per step")
        for example, epochs, detail in (("xor.json", 30, 1), ("xor.json", 30, 16),
                                        ("digits.json", 3, 1)):
            design = load_design(resource_path("examples", example))
            design = replace(design, training=replace(design.training, epochs=epochs))
            data = load_dataset(DatasetSpec.from_dict(design.dataset))
            label = f"{example}, {epochs} epochs, detail every {detail}"
            print(f"  {label:50} " + ab(
                lambda d=design, x=data, k=detail: trainer_us(old_trainer.Trainer, d, x, k),
                lambda d=design, x=data, k=detail: trainer_us(Trainer, d, x, k),
                args.rounds))


if __name__ == "__main__":
    main()
