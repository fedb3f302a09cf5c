"""Speed benchmark of the NumPy training step (``core.training.step.TrainStep.run``).

Trains six float32 models with plain SGD on synthetic data for a fixed number of steps
(four dense ones, (a)-(d), and the two convolutional ones of ``bench/conv_models.py``),
with one BLAS thread, and prints steps/s and samples/s. When PyTorch is installed it
trains the same models in PyTorch in the same run (same initial weights, same batches,
one thread, rounds alternated A/B/B/A so machine noise hits both alike), checks that the
losses agree, and prints our/PyTorch throughput ratios. It also prints the cost of the
per-layer gradient norms as a share of a step and, for the largest model, the share of
the machine's float32 matrix-multiply peak (measured in the same run) that a step reaches.

Usage::

    cd /work/main && .venv/bin/python bench/trainer.py [--quick] [--steps-scale X]
        [--rounds N] [--no-torch] [--only a,b,c,d,e,f]

Not part of the test suite. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from core import ActivationSpec, DenseSpec, NetworkSpec, TrainConfig, build_network  # noqa: E402
from core.training.step import TrainStep  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv_models import CONV_MODELS, ConvModel  # noqa: E402

try:  # optional reference
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

DATA_SEED = 1234
WEIGHT_SEED = 7
POOL = 16            # preallocated batches, cycled
CHECK_STEPS = 25     # identical steps for the correctness check
LOSS_RTOL = 1e-3     # float32 agreement after CHECK_STEPS steps (max relative difference)


# ---------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Model:
    key: str
    title: str
    inputs: int
    hidden: tuple[int, ...]
    outputs: int
    activation: str
    loss: str            # "mse" or "softmax_cross_entropy"
    batch: int
    lr: float
    steps: int           # steps per timed round at --steps-scale 1
    target_ratio: float  # ours / PyTorch throughput to reach
    target_peak: float | None = None  # share of the matmul peak to reach (model d)

    def spec(self) -> NetworkSpec:
        layers: list = []
        for units in self.hidden:
            layers += [DenseSpec(units=units), ActivationSpec(function=self.activation)]
        layers.append(DenseSpec(units=self.outputs))
        if self.loss == "softmax_cross_entropy":
            layers.append(ActivationSpec(function="softmax"))
        return NetworkSpec(inputs=self.inputs, layers=tuple(layers))

    def step_flops(self) -> float:
        """Matrix-multiply FLOPs of one training step (element-wise work ignored).

        forward  F = 2 B sum(n_in * n_out) over Dense layers
        backward   = 2 B sum(n_in * n_out)                 (weight gradients)
                   + 2 B sum(n_in * n_out) - 2 B n_0 n_1   (input gradients; the first
                                                            layer's is skipped)
        total      = 3 F - 2 B n_0 n_1
        """
        sizes = (self.inputs, *self.hidden, self.outputs)
        f = 2.0 * self.batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        return 3.0 * f - 2.0 * self.batch * sizes[0] * sizes[1]

    def torch_model(self, params: dict[str, np.ndarray]):
        """The same layers in PyTorch with our initial weights."""
        nn = torch.nn
        act = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[self.activation]
        sizes = (self.inputs, *self.hidden, self.outputs)
        mods: list = []
        for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            mods.append(nn.Linear(a, b))
            if j < len(sizes) - 2:
                mods.append(act())
        model = nn.Sequential(*mods).float()
        # Our Dense layers sit at layers.0, layers.2, ... with weight (in, out).
        dense = [k[: -len(".weight")] for k in params if k.endswith(".weight")]
        linears = [mod for mod in model if isinstance(mod, nn.Linear)]
        with torch.no_grad():
            for name, lin in zip(dense, linears, strict=True):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(params[name + ".weight"].T)))
                lin.bias.copy_(torch.from_numpy(params[name + ".bias"].copy()))
        return model


MODELS = [
    Model("a", "2-8-8-1 tanh, MSE, batch 10", 2, (8, 8), 1, "tanh", "mse", 10, 0.05,
          2000, 10.0),
    Model("b", "784-256-256-10 ReLU, softmax CE, batch 128", 784, (256, 256), 10, "relu",
          "softmax_cross_entropy", 128, 0.01, 200, 1.0),
    Model("c", "64-(20x64 sigmoid)-10, softmax CE, batch 64", 64, (64,) * 20, 10, "sigmoid",
          "softmax_cross_entropy", 64, 0.1, 800, 2.0),
    Model("d", "784-1024-1024-10 ReLU, softmax CE, batch 256", 784, (1024, 1024), 10, "relu",
          "softmax_cross_entropy", 256, 0.01, 25, 1.0, target_peak=0.85),
    *CONV_MODELS,
]
AnyModel = Model | ConvModel
GRAD_NORM_TARGET = 0.05


def make_pool(m: AnyModel) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """POOL batches: X (B, inputs) float32, Y encoded to the output shape, class labels."""
    rng = np.random.default_rng([DATA_SEED, ord(m.key)])
    xs, ys, labels = [], [], []
    for _ in range(POOL):
        x = rng.standard_normal((m.batch, m.inputs)).astype(np.float32)
        if m.loss == "mse":
            y = rng.uniform(-1.0, 1.0, (m.batch, m.outputs)).astype(np.float32)
            lab = np.zeros(0, dtype=np.int64)
        else:
            lab = rng.integers(0, m.outputs, m.batch).astype(np.int64)
            y = np.zeros((m.batch, m.outputs), dtype=np.float32)
            y[np.arange(m.batch), lab] = 1.0
        xs.append(x)
        ys.append(y)
        labels.append(lab)
    return xs, ys, labels


# ------------------------------------------------------------------------- our side


class Ours:
    def __init__(self, m: AnyModel, pool) -> None:
        self.m = m
        self.net = build_network(m.spec(), WEIGHT_SEED, dtype=np.float32)
        self.step = TrainStep(self.net, TrainConfig(loss=m.loss, optimizer="sgd",
                                                    learning_rate=m.lr, batch_size=m.batch))
        self.xs, self.ys = pool[0], pool[1]
        self.i = 0

    def run(self, n: int) -> float:
        """n steps; returns the last loss."""
        run, xs, ys, i = self.step.run, self.xs, self.ys, self.i
        loss = 0.0
        for _ in range(n):
            loss = run(xs[i], ys[i]).loss
            i = (i + 1) % POOL
        self.i = i
        return loss

    def losses(self, n: int) -> list[float]:
        out = []
        for _ in range(n):
            out.append(self.step.run(self.xs[self.i], self.ys[self.i]).loss)
            self.i = (self.i + 1) % POOL
        return out


# ---------------------------------------------------------------------- PyTorch side


class Torch:
    def __init__(self, m: AnyModel, pool, params: dict[str, np.ndarray]) -> None:
        self.model = m.torch_model(params)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=m.lr)
        self.xs = [torch.from_numpy(x) for x in pool[0]]
        if m.loss == "mse":
            self.ys = [torch.from_numpy(y) for y in pool[1]]
            self.loss_fn = torch.nn.functional.mse_loss
        else:
            self.ys = [torch.from_numpy(lab) for lab in pool[2]]
            self.loss_fn = torch.nn.functional.cross_entropy
        self.i = 0

    def run(self, n: int) -> float:
        model, opt, loss_fn = self.model, self.opt, self.loss_fn
        xs, ys, i = self.xs, self.ys, self.i
        value = 0.0
        for _ in range(n):
            opt.zero_grad()
            loss = loss_fn(model(xs[i]), ys[i])
            loss.backward()
            opt.step()
            value = loss.item()  # ours returns the loss as a float every step too
            i = (i + 1) % POOL
        self.i = i
        return value

    def losses(self, n: int) -> list[float]:
        out = []
        for _ in range(n):
            out.append(self.run(1))
        return out


# --------------------------------------------------------------------------- helpers


def timed(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn(n)
    return time.perf_counter() - t0


def matmul_peak(repeats: int) -> tuple[float, str]:
    """Best float32 GEMM rate (GFLOP/s) over 1024^3 and 2048^3 products, one thread."""
    best, where = 0.0, ""
    rng = np.random.default_rng(0)
    for n in (1024, 2048):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        c = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=c)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            rate = 2.0 * n**3 / (time.perf_counter() - t0) / 1e9
            if rate > best:
                best, where = rate, f"{n}x{n}x{n}"
    return best, where


def grad_norm_cost(ours: Ours, rounds: int) -> tuple[float, float]:
    """Median seconds of (1) what the per-layer gradient norms add to a step and (2) a
    separate ``layer_grad_norms()`` call.

    The step computes each layer's sum of squares (``group_sq_norms``) and takes the
    clipping norm from their total, so the per-layer norms replace the one global
    ``np.dot(g, g)`` a step needs anyway: their added cost is the difference.
    """
    net = ours.net
    g = net.flat_grads
    n = 2000 if net.parameter_count < 100_000 else 200
    added, separate = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            net.group_sq_norms(g)
        t1 = time.perf_counter()
        for _ in range(n):
            float(np.dot(g, g))
        t2 = time.perf_counter()
        for _ in range(n):
            net.layer_grad_norms()
        t3 = time.perf_counter()
        added.append(max(0.0, (t1 - t0) - (t2 - t1)) / n)
        separate.append((t3 - t2) / n)
    return statistics.median(added), statistics.median(separate)


def print_environment(use_torch: bool) -> None:
    print(f"Python {platform.python_version()}, NumPy {np.__version__}"
          + (f", PyTorch {torch.__version__}" if use_torch else ""))
    cpu = next((ln.split(":", 1)[1].strip() for ln in _cpuinfo() if ln.startswith("model name")),
               platform.processor() or "?")
    print(f"CPU: {cpu}, {os.cpu_count()} logical cores")
    for lib in threadpool_info():
        print(f"  {lib.get('user_api')}: {lib.get('internal_api')} {lib.get('version') or ''} "
              f"arch={lib.get('architecture', '-')} threads={lib.get('num_threads')} "
              f"({Path(lib.get('filepath', '')).name})")
    core = os.environ.get("OPENBLAS_CORETYPE")
    print(f"OPENBLAS_CORETYPE: {'set to ' + repr(core) if core else 'not set'} "
          "(the benchmark never changes it)")
    print(f"load average before the run: {_loadavg()}")


def _loadavg() -> str:
    try:
        load = os.getloadavg()
    except OSError:
        return "unknown"
    note = ("  (other processes are busy: figures will be noisy)"
            if load[0] > 0.5 else "")
    return " ".join(f"{x:.2f}" for x in load) + note


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short smoke run (steps x0.2, 3 rounds)")
    p.add_argument("--steps-scale", type=float, default=None,
                   help="multiply every step count by this (default 1, 0.2 with --quick)")
    p.add_argument("--rounds", type=int, default=None,
                   help="timed rounds per framework (default 9, 3 with --quick)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--only", default="a,b,c,d,e,f", help="models to run, e.g. a,e")
    args = p.parse_args(argv)
    scale = args.steps_scale if args.steps_scale is not None else (0.2 if args.quick else 1.0)
    rounds = args.rounds if args.rounds is not None else (3 if args.quick else 9)
    use_torch = torch is not None and not args.no_torch
    models = [m for m in MODELS if m.key in args.only.split(",")]

    print_environment(use_torch)
    if torch is None:
        print("PyTorch not installed: comparison skipped "
              "(.venv/bin/pip install torch==2.13.0 to enable it).")
    elif args.no_torch:
        print("PyTorch comparison skipped (--no-torch).")
    print(f"steps scale {scale:g}, {rounds} rounds, median reported; 1 BLAS thread")
    t_start = time.perf_counter()

    rows = []
    with threadpool_limits(limits=1):
        if use_torch:
            torch.set_num_threads(1)
            torch.manual_seed(0)
        peak, peak_shape = matmul_peak(3 if args.quick else 5)
        print(f"float32 matmul peak (1 thread): {peak:.1f} GFLOP/s ({peak_shape})\n")

        for m in models:
            print(f"({m.key}) {m.title}")
            pool = make_pool(m)
            ours = Ours(m, pool)
            ref = Torch(m, pool, ours.net.parameters()) if use_torch else None
            steps = max(1, round(m.steps * scale))
            warm = max(3, steps // 10)

            rel = None
            if ref is not None:
                lo = np.array(ours.losses(CHECK_STEPS), dtype=np.float64)
                lt = np.array(ref.losses(CHECK_STEPS), dtype=np.float64)
                rel = float(np.max(np.abs(lo - lt) / np.maximum(np.abs(lt), 1e-12)))
                verdict = "ok" if rel <= LOSS_RTOL else "MISMATCH: comparison meaningless"
                print(f"  check: {CHECK_STEPS} identical steps, max relative loss difference "
                      f"{rel:.2e} (tolerance {LOSS_RTOL:g}) {verdict}; "
                      f"loss {lo[0]:.4f} -> {lo[-1]:.4f}")

            ours.run(warm)
            if ref is not None:
                ref.run(warm)
            t_ours, t_ref = [], []
            for r in range(rounds):
                order = (0, 1) if r % 2 == 0 else (1, 0)  # A/B, B/A, ...
                for who in order:
                    if who == 0:
                        t_ours.append(timed(ours.run, steps))
                    elif ref is not None:
                        t_ref.append(timed(ref.run, steps))
            ours_sps = steps / statistics.median(t_ours)
            ref_sps = steps / statistics.median(t_ref) if t_ref else None
            final = ours.run(1)
            if not np.isfinite(final):
                print(f"  WARNING: our loss is not finite ({final}); timings may be off")

            gn, lgn = grad_norm_cost(ours, 3)
            step_s = 1.0 / ours_sps
            print(f"  ours:    {fmt_rate(ours_sps):>8} steps/s  "
                  f"{fmt_rate(ours_sps * m.batch):>10} samples/s  "
                  f"({step_s * 1e6:,.1f} us/step median, {min(t_ours) / steps * 1e6:,.1f} "
                  f"best; {steps} steps x {rounds} rounds)")
            if ref_sps is not None:
                print(f"  PyTorch: {fmt_rate(ref_sps):>8} steps/s  "
                      f"{fmt_rate(ref_sps * m.batch):>10} samples/s  "
                      f"({1e6 / ref_sps:,.1f} us/step median, "
                      f"{min(t_ref) / steps * 1e6:,.1f} best)")
                paired = statistics.median(b / a for a, b in zip(t_ours, t_ref, strict=True))
                print(f"  ratio ours/PyTorch: {ours_sps / ref_sps:.2f}x of medians "
                      f"({paired:.2f}x median of adjacent pairs, "
                      f"{min(t_ref) / min(t_ours):.2f}x best-of-rounds; "
                      f"target >= {m.target_ratio:g}x)")
            print(f"  gradient norms: add {gn * 1e6:.1f} us = {gn / step_s:.1%} to a step "
                  f"(target < {GRAD_NORM_TARGET:.0%}); a separate layer_grad_norms() call "
                  f"costs {lgn * 1e6:.1f} us = {lgn / step_s:.1%}")
            frac = None
            if m.target_peak is not None:
                gflops = m.step_flops() * ours_sps / 1e9
                frac = gflops / peak
                print(f"  step FLOPs 3F - 2*B*{m.inputs}*{m.hidden[0]} = "
                      f"{m.step_flops() / 1e9:.3f} GFLOP -> {gflops:.1f} GFLOP/s = "
                      f"{frac:.1%} of peak (target >= {m.target_peak:.0%})")
                if ref_sps is not None:
                    print(f"  PyTorch: {m.step_flops() * ref_sps / 1e9:.1f} GFLOP/s = "
                          f"{m.step_flops() * ref_sps / 1e9 / peak:.1%} of peak")
            print()
            rows.append((m, ours_sps, ref_sps, rel, gn / step_s, frac))

        peak2, _ = matmul_peak(2 if args.quick else 3)
        if peak2 > peak * 1.05:
            print(f"note: matmul peak measured again at the end: {peak2:.1f} GFLOP/s "
                  f"(start {peak:.1f}); machine speed varied during the run\n")

    # ------------------------------------------------------------------ summary table
    def ok(flag: bool) -> str:
        return "yes" if flag else "NO"

    print("Summary (float32, SGD, 1 BLAS thread, medians)")
    hdr = (f"{'model':<6}{'ours st/s':>11}{'ours smp/s':>12}{'torch st/s':>12}{'ratio':>8}"
           f"{'target':>8}{'met':>5}{'loss rel':>10}{'norms %':>9}{'met':>5}{'%peak':>7}{'met':>5}")
    print(hdr)
    print("-" * len(hdr))
    for m, o, t, rel, gpct, frac in rows:
        ratio = f"{o / t:.2f}x" if t else "-"
        met = ok(o / t >= m.target_ratio) if t else "-"
        print(f"({m.key})   {fmt_rate(o):>11}{fmt_rate(o * m.batch):>12}"
              f"{fmt_rate(t) if t else '-':>12}{ratio:>8}"
              f"{'>=' + format(m.target_ratio, 'g') + 'x':>8}"
              f"{met:>5}{format(rel, '.1e') if rel is not None else '-':>10}"
              f"{gpct:>8.1%} {ok(gpct < GRAD_NORM_TARGET):>4}"
              f"{format(frac, '.0%') if frac is not None else '':>7}"
              f"{(ok(frac >= m.target_peak) if frac is not None else ''):>5}")
    print(f"targets: ratio as listed; gradient norms added to a step < {GRAD_NORM_TARGET:.0%}"
          f" of a step; (d) >= 85% of the {peak:.0f} GFLOP/s matmul peak")
    print(f"total time {time.perf_counter() - t_start:.0f} s; load average after: {_loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
