"""Memory and time of CSV import (``core.datasets.load_csv``) on a generated file.

Writes a CSV of ``--rows`` rows (two numeric inputs and a class or regression target,
about 17 bytes a row, like the files in issue 11), then imports it in a fresh Python
process and prints the wall time and the peak growth of resident memory during the
import (``VmHWM`` minus ``VmRSS`` just before it, from ``/proc/self/status``), as a
multiple of the file size. The target is below 8x the file size.

Usage::

    cd /work/main && .venv/bin/python bench/csv_import.py [--rows 1000000]
        [--task classification|regression] [--keep FILE]

Not part of the test suite (tests/core/datasets/test_datasets_csv_stream.py checks the ratio
with tracemalloc on a smaller file). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from core.datasets import load_csv

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
before = status("VmRSS:")
started = time.perf_counter()
ds = load_csv(sys.argv[2])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_growth": status("VmHWM:") - before,
                  "rows": ds.n_train + ds.n_val, "task": ds.task}))
"""


def write_csv(path: Path, rows: int, task: str, seed: int = 0) -> None:
    """Two inputs with 4 decimals and a target: class 0/1 or a number with 3 decimals."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("x1,x2,y\n")
        step = 200_000
        for start in range(0, rows, step):
            n = min(step, rows - start)
            x = rng.normal(size=(n, 2))
            if task == "classification":
                y = (x[:, 0] * x[:, 1] > 0).astype(int).astype(str)
            else:
                y = np.char.mod("%.3f", x[:, 0] - 2 * x[:, 1])
            xs = np.char.mod("%.4f", x)
            f.write("\n".join(np.char.add(np.char.add(np.char.add(np.char.add(
                xs[:, 0], ","), xs[:, 1]), ","), y)))
            f.write("\n")


def measure(path: Path) -> dict:
    """Import ``path`` in a fresh interpreter; returns seconds, peak_growth, rows, task."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--task", choices=("classification", "regression"),
                        default="classification")
    parser.add_argument("--keep", type=Path, help="write the generated file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "big.csv"
        write_csv(path, args.rows, args.task)
        size = path.stat().st_size
        result = measure(path)
    ratio = result["peak_growth"] / size
    print(f"{result['rows']:,} rows ({result['task']}), file {size / 1e6:.1f} MB: "
          f"{result['seconds']:.1f} s, peak memory growth {result['peak_growth'] / 1e6:.0f} MB "
          f"= {ratio:.1f}x the file size (target < 8x)")


if __name__ == "__main__":
    main()
