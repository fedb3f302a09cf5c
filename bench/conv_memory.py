"""Resident memory of the training process while it trains the conv model (e).

Starts the app's real training process (``core.training.process.TrainingProcess``, the
child the window uses), sends it the design of model (e) of ``bench/conv_models.py``
(batch 64, float32, plain SGD) and a synthetic 28×28 image dataset, and samples the
child's ``VmRSS`` from ``/proc/<pid>/status`` every 10 ms while it trains: through the
training steps, the per-epoch evaluation of the training and validation sets, and the
model views it sends the window. Prints the child's memory before the run (the
interpreter and its imports), the peak (``VmHWM``), the bytes of the data arrays the child
holds, and what is left for training itself.

Usage::

    cd /work/main && .venv/bin/python bench/conv_memory.py [--samples N] [--epochs N]

Linux only (``/proc``). Not part of the test suite. See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conv_models import CONV_MODELS  # noqa: E402

from core.datasets.dataset import build_dataset  # noqa: E402
from core.training.process import TrainingProcess  # noqa: E402

MB = 1024 * 1024
TARGET_MB = 200


def status_kb(pid: int, key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/<pid>/status, in kB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def synthetic_images(n: int, seed: int = 0):
    """n random 28×28 "images" in 10 classes, each class a blurred template plus noise,
    as a Dataset (float64 inputs, standardised, 20 % validation) like the shipped ones."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    templates = rng.normal(size=(10, 784))
    x = templates[labels] + rng.normal(scale=2.0, size=(n, 784))
    names = [f"pixel {i}" for i in range(784)]
    return build_dataset(name="bench images", task="classification", x_raw=x, y=labels,
                         raw_feature_names=names, target_names=["digit"],
                         class_names=[str(d) for d in range(10)], seed=seed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=6000,
                   help="images in the dataset, 20 %% of them for validation (default 6000)")
    p.add_argument("--epochs", type=int, default=2, help="epochs to train (default 2)")
    args = p.parse_args(argv)
    model = next(m for m in CONV_MODELS if m.key == "e")
    design = model.design(epochs=args.epochs)
    dataset = synthetic_images(args.samples)
    arrays = (dataset.x_train, dataset.x_val, dataset.x_train_raw, dataset.x_val_raw,
              dataset.y_train, dataset.y_val)
    data_bytes = sum(a.nbytes for a in arrays)
    # The trainer's float32 copies of the inputs (and one-hot targets) it trains from.
    data_bytes += (dataset.n_train + dataset.n_val) * (784 + 10) * 4

    process = TrainingProcess()
    try:
        process.ensure_started()
        pid = process._process.pid  # the bench reads the child's /proc entry
        time.sleep(1.0)
        idle = 0
        for _ in range(100):  # until the child's imports are done and its size settles
            now = status_kb(pid, "VmRSS")
            if now and abs(now - idle) < 256:
                break
            idle = now
            time.sleep(0.1)
        run = process.start_run(design, dataset)
        t0 = time.perf_counter()
        peak_seen, samples = 0, 0
        while not run.done.wait(0.01):
            peak_seen = max(peak_seen, status_kb(pid, "VmRSS"))
            samples += 1
            run.take_batch()  # as the window does: keep the progress queue short
        seconds = time.perf_counter() - t0
        hwm = status_kb(pid, "VmHWM")
        error = run.error
    finally:
        process.close()
    if error:
        print(f"the run failed: {error}")
        return 1
    peak = max(hwm, peak_seen)
    print(f"model (e): {model.title}")
    print(f"dataset: {dataset.n_train:,} training + {dataset.n_val:,} validation images of "
          f"28x28 (synthetic), {args.epochs} epochs in {seconds:.1f} s; {samples:,} samples "
          "of VmRSS")
    print(f"training process (pid {pid}):")
    print(f"  before the run (interpreter, NumPy, the app's modules): {idle / 1024:6.1f} MB")
    print(f"  peak during the run (VmHWM):                          {peak / 1024:6.1f} MB  "
          f"(target < {TARGET_MB} MB: {'met' if peak / 1024 < TARGET_MB else 'NOT met'})")
    print(f"  of which the data (float64 dataset with raw copies, the trainer's float32 "
          f"copies): {data_bytes / MB:.1f} MB")
    print(f"  left for training (network, buffers, evaluation, views): "
          f"{(peak * 1024 - idle * 1024 - data_bytes) / MB:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
