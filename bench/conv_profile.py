"""Where a training step of the conv models (e) and (f) spends its time.

Builds each model of ``bench/conv_models.py`` from its design (``core.build_network``)
and runs ``core.training.step.TrainStep.run``, the trainer's one step function, on
synthetic float32 batches with one BLAS thread. Then it runs the same steps with every
layer's ``forward``/``backward``, the loss, the optimizer and the convolutions' matrix
products wrapped in timers, and prints:

- the share of a step per layer kind (conv forward / backward, pooling, activations,
  dense, flatten), the loss, the optimizer, and the rest of the step (gradient norms,
  finiteness checks, adding the update);
- the convolutions' matrix-product FLOPs per step and the rate they reach, as a share of
  the machine's one-thread float32 matmul peak (measured in the same run, as in
  ``bench/trainer.py``): inside the products alone, over the conv layers' whole time
  (copies included), and over the whole step.

The timers cost a little (about 0.3 µs per wrapped call); the plain step time is printed
beside the instrumented one.

Usage::

    cd /work/main && .venv/bin/python bench/conv_profile.py [--only e,f] [--steps N]
        [--rounds N]

Not part of the test suite. See bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conv_models import CONV_MODELS, ConvModel  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from trainer import POOL, WEIGHT_SEED, make_pool, matmul_peak  # noqa: E402

import core.engine.conv as conv_module  # noqa: E402
from core import build_network  # noqa: E402
from core.engine.conv import Conv2D  # noqa: E402
from core.engine.layers import Activation, Dense  # noqa: E402
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D  # noqa: E402
from core.training.step import TrainStep  # noqa: E402

KINDS = ((Conv2D, "conv"), (MaxPool2D, "pool"), (AvgPool2D, "pool"),
         (GlobalAvgPool, "pool"), (Activation, "activation"), (Dense, "dense"),
         (Flatten, "flatten"))


class Timers:
    """Seconds per label, accumulated by the wrappers."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, fn, label: str):
        seconds, clock = self.seconds, time.perf_counter

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[label] += clock() - t0
        return timed


class _TimedNumpy:
    """Stands in for ``numpy`` inside ``core.engine.conv``: ``dot`` and ``matmul`` are
    timed (the convolutions' matrix products), everything else is numpy's own."""

    def __init__(self, timers: Timers) -> None:
        self.dot = timers.wrap(np.dot, "conv products")
        self.matmul = timers.wrap(np.matmul, "conv products")

    def __getattr__(self, name: str):
        return getattr(np, name)


class _TimedLoss:
    def __init__(self, loss, timers: Timers) -> None:
        self._loss = loss
        self.value_and_grad = timers.wrap(loss.value_and_grad, "loss")

    def __getattr__(self, name: str):
        return getattr(self._loss, name)


def kind_of(layer) -> str:
    return next(label for cls, label in KINDS if isinstance(layer, cls))


def plain_seconds(step: TrainStep, xs, ys, steps: int, rounds: int) -> float:
    """Median seconds per step, uninstrumented."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(steps):
            step.run(xs[i % POOL], ys[i % POOL])
        times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times)


def profile(m: ConvModel, steps: int, rounds: int, peak: float) -> None:
    net = build_network(m.design().network, WEIGHT_SEED, dtype=np.float32)
    step = TrainStep(net, m.design().training)  # as core.training.trainer.Trainer does
    xs, ys, _ = make_pool(m)
    for i in range(steps // 5 + 3):  # warm-up: buffers for this batch size
        step.run(xs[i % POOL], ys[i % POOL])
    plain = plain_seconds(step, xs, ys, steps, rounds)

    timers = Timers()
    for layer in net.layers:
        kind = kind_of(layer)
        layer.forward = timers.wrap(layer.forward, f"{kind} forward")
        layer.backward = timers.wrap(layer.backward, f"{kind} backward")
    step.loss = _TimedLoss(step.loss, timers)
    step.optimizer.compute_update = timers.wrap(step.optimizer.compute_update, "optimizer")
    conv_module.np = _TimedNumpy(timers)
    try:
        t0 = time.perf_counter()
        for _ in range(rounds):
            for i in range(steps):
                step.run(xs[i % POOL], ys[i % POOL])
        total = time.perf_counter() - t0
    finally:
        conv_module.np = np
    n = steps * rounds
    per = {k: v / n for k, v in timers.seconds.items()}
    products = per.pop("conv products", 0.0)
    step_s = total / n
    rest = step_s - sum(per.values())

    print(f"({m.key}) {m.title}")
    print(f"  step: {plain * 1e6:,.0f} us plain (median of {rounds} rounds x {steps} steps), "
          f"{step_s * 1e6:,.0f} us instrumented")
    print(f"  {'part':<22}{'us/step':>10}{'share':>8}")
    for label, sec in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<22}{sec * 1e6:>10,.1f}{sec / step_s:>8.1%}")
    print(f"  {'rest of the step':<22}{rest * 1e6:>10,.1f}{rest / step_s:>8.1%}"
          "  (norms, checks, update, calls)")
    conv = per.get("conv forward", 0.0) + per.get("conv backward", 0.0)
    flops = m.conv_flops()
    print(f"  conv matrix products: {products * 1e6:,.1f} us/step = {products / conv:.0%} of "
          f"the conv layers' time; {flops / 1e6:.2f} MFLOP per step")
    for where, sec in (("inside the products", products), ("over the conv layers", conv),
                       ("over the whole step", step_s)):
        rate = flops / sec / 1e9
        print(f"    {where:<21} {rate:6.1f} GFLOP/s = {rate / peak:5.1%} of the "
              f"{peak:.0f} GFLOP/s peak")
    print()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="e,f", help="models to profile, e.g. f")
    p.add_argument("--steps", type=int, default=None,
                   help="steps per round (default: the model's steps in bench/trainer.py)")
    p.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    args = p.parse_args(argv)
    with threadpool_limits(limits=1):
        peak, shape = matmul_peak(5)
        print(f"float32 matmul peak (1 thread): {peak:.1f} GFLOP/s ({shape}); "
              "1 BLAS thread, float32, SGD\n")
        for m in CONV_MODELS:
            if m.key in args.only.split(","):
                profile(m, args.steps or m.steps, args.rounds, peak)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
