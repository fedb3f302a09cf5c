"""Micro-benchmark of the image layers' forward + backward against PyTorch CPU.

Times one layer at a time, float32, one thread each (threadpoolctl for NumPy's BLAS,
``torch.set_num_threads(1)``), on the shapes of the LeNet-style model (e) of issue 14:

- conv 8@3×3 on (64, 1, 28, 28), as a first layer (no input gradient);
- conv 16@3×3 on (64, 8, 13, 13), as an inner layer (input gradient too);
- maxpool 2 on (64, 8, 26, 26) and on (64, 16, 11, 11);
- the layers of (e) chained: conv 8@3×3, ReLU, maxpool 2, conv 16@3×3, ReLU, maxpool 2,
  flatten, dense 10 on (64, 1, 28, 28) (no loss, no optimizer: the training step is
  ``bench/trainer.py``'s (e));
- the two convolutions of the 8×8 digits model (f): conv 16@3×3 "same" on (32, 1, 8, 8)
  and conv 32@3×3 "same" on (32, 16, 4, 4) with its input gradient.

Rounds alternate A/B/B/A so machine noise hits both alike; the table shows the median
milliseconds per forward + backward and the ratio PyTorch time / our time (above 1: we
are faster). Before timing it checks that both give the same outputs and gradients.

Usage::

    cd /work/main && .venv/bin/python bench/conv_layers.py [--rounds N] [--reps N]

Not part of the test suite. See bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402, N812
from threadpoolctl import threadpool_limits  # noqa: E402

from core import ACTIVATIONS  # noqa: E402
from core.engine.conv import Conv2D  # noqa: E402
from core.engine.layers import Activation, Dense, Layer  # noqa: E402
from core.engine.pooling import Flatten, MaxPool2D  # noqa: E402

DT = np.float32


def bound(layer: Layer, rng: np.random.Generator) -> Layer:
    """``layer`` with its parameters drawn and bound to fresh arrays."""
    params, grads = {}, {}
    for d in layer.declare():
        params[d.name] = (rng.normal(size=d.shape) * 0.1).astype(DT)
        grads[d.name] = np.zeros(d.shape, dtype=DT)
    layer.bind(params, grads)
    return layer


def case_conv(shape: tuple[int, ...], filters: int, input_grad: bool,
              rng: np.random.Generator, padding: str = "valid"
              ) -> tuple[Callable[[], None], Callable[[], None]]:
    layer = bound(Conv2D("conv", shape[1:], filters, 3, 1, padding, True, DT, None), rng)
    x = rng.normal(size=shape).astype(DT)
    g = rng.normal(size=(shape[0], *layer.out_shape)).astype(DT)
    gwork = g.copy()
    xt = torch.tensor(x, requires_grad=input_grad)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    gt = torch.tensor(g)

    def ours() -> None:
        layer.forward(x, True)
        np.copyto(gwork, g)  # backward may overwrite g
        layer.backward(gwork, input_grad)

    def theirs() -> None:
        wt.grad = bt.grad = xt.grad = None
        F.conv2d(xt, wt, bt, padding=padding).backward(gt)

    for _ in range(3):  # warm-up: PyTorch picks its kernels on the first calls
        ours()
        theirs()
    _agree(layer.forward(x, True), F.conv2d(xt, wt, bt, padding=padding).detach().numpy(),
           "output")
    _agree(layer.grads["weight"], wt.grad.numpy(), "weight gradient")
    return ours, theirs


def case_pool(shape: tuple[int, ...],
              rng: np.random.Generator) -> tuple[Callable[[], None], Callable[[], None]]:
    layer = MaxPool2D("pool", shape[1:], 2, None, DT)
    x = rng.normal(size=shape).astype(DT)
    g = rng.normal(size=(shape[0], *layer.out_shape)).astype(DT)
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(g)

    def ours() -> None:
        layer.forward(x, True)
        layer.backward(g, True)

    def theirs() -> None:
        xt.grad = None
        F.max_pool2d(xt, 2).backward(gt)

    for _ in range(3):  # warm-up: PyTorch picks its kernels on the first calls
        ours()
        theirs()
    _agree(layer.backward(g, True), xt.grad.numpy(), "input gradient")
    return ours, theirs


def case_lenet(rng: np.random.Generator) -> tuple[Callable[[], None], Callable[[], None]]:
    dt, relu = np.dtype(DT), ACTIVATIONS["relu"]
    layers: list[Layer] = [
        Conv2D("c1", (1, 28, 28), 8, 3, 1, "valid", True, dt, None),
        Activation("r1", 8 * 26 * 26, dt, relu), MaxPool2D("p1", (8, 26, 26), 2, None, dt),
        Conv2D("c2", (8, 13, 13), 16, 3, 1, "valid", True, dt, None),
        Activation("r2", 16 * 11 * 11, dt, relu), MaxPool2D("p2", (16, 11, 11), 2, None, dt),
        Flatten("f", (16, 5, 5), dt), Dense("d", 400, 10, dt, True, None)]
    for layer in layers:
        bound(layer, rng)
    x = rng.normal(size=(64, 1, 28, 28)).astype(DT)
    g = rng.normal(size=(64, 10)).astype(DT)
    gwork = g.copy()
    xt, gt = torch.tensor(x), torch.tensor(g)
    p = [torch.tensor(v, requires_grad=True) for layer in layers for v in layer.params.values()]

    def ours() -> None:
        h = x
        for layer in layers:
            h = layer.forward(h, True)
        np.copyto(gwork, g)
        gg = gwork
        for i in range(len(layers) - 1, -1, -1):
            gg = layers[i].backward(gg, i > 0)

    def theirs() -> None:
        for t in p:
            t.grad = None
        h = F.max_pool2d(torch.relu(F.conv2d(xt, p[0], p[1])), 2)
        h = F.max_pool2d(torch.relu(F.conv2d(h, p[2], p[3])), 2)
        (torch.flatten(h, 1) @ p[4] + p[5]).backward(gt)

    for _ in range(3):  # warm-up: PyTorch picks its kernels on the first calls
        ours()
        theirs()
    _agree(layers[0].grads["weight"], p[0].grad.numpy(), "first conv's weight gradient")
    return ours, theirs


def _agree(a: np.ndarray, b: np.ndarray, what: str) -> None:
    scale = float(np.abs(b).max()) or 1.0
    if not np.allclose(a, b, rtol=1e-4, atol=1e-5 * scale):
        raise SystemExit(f"mismatch in {what}: max difference {np.abs(a - b).max()}")


def timed(fn: Callable[[], None], reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds per framework")
    ap.add_argument("--reps", type=int, default=20, help="forward+backward passes per round")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    cases = {
        "conv 8@3x3 on (64,1,28,28), no input grad": case_conv((64, 1, 28, 28), 8, False, rng),
        "conv 16@3x3 on (64,8,13,13), input grad": case_conv((64, 8, 13, 13), 16, True, rng),
        "maxpool 2 on (64,8,26,26)": case_pool((64, 8, 26, 26), rng),
        "maxpool 2 on (64,16,11,11)": case_pool((64, 16, 11, 11), rng),
        "(e) layers: conv,relu,pool,conv,relu,pool,dense": case_lenet(rng),
        "(f) conv 16@3x3 same on (32,1,8,8), no input grad":
            case_conv((32, 1, 8, 8), 16, False, rng, "same"),
        "(f) conv 32@3x3 same on (32,16,4,4), input grad":
            case_conv((32, 16, 4, 4), 32, True, rng, "same"),
    }
    print(f"float32, one thread, median of {args.rounds} rounds x {args.reps} passes "
          f"(ms per forward+backward)")
    print(f"{'case':52s} {'NumPy ms':>9s} {'torch ms':>9s} {'ratio':>7s}")
    with threadpool_limits(1):
        for title, (ours, theirs) in cases.items():
            a, b = [], []
            for r in range(args.rounds):
                pair = (ours, theirs) if r % 2 == 0 else (theirs, ours)
                for fn in pair:
                    (a if fn is ours else b).append(timed(fn, args.reps))
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"{title:52s} {ma:9.3f} {mb:9.3f} {mb / ma:6.2f}x")
    print("ratio = PyTorch time / NumPy time (above 1: NumPy is faster)")


if __name__ == "__main__":
    main()
