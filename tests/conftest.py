"""Test set-up shared by every test: Qt renders offscreen, BLAS uses one thread."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before any Qt import: no display is needed, on CI or on a developer's machine.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
