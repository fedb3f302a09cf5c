"""Counts in words: one plural rule, used by every message."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core.words import plural

ROOT = Path(__file__).resolve().parents[2]


def test_singular_only_for_one():
    assert plural(1, "input") == "1 input"
    assert plural(0, "input") == "0 inputs"
    assert plural(2, "input") == "2 inputs"
    assert plural(1056, "parameter") == "1,056 parameters"
    assert plural(np.int64(3), "sample") == "3 samples"


def test_plurals_of_nouns_ending_in_s_x_ch_sh_and_irregular_ones():
    assert plural(3, "class") == "3 classes"
    assert plural(1, "class") == "1 class"
    assert plural(2, "box") == "2 boxes"
    assert plural(2, "batch") == "2 batches"
    assert plural(300, "epoch") == "300 epochs"  # "ch" sounded as k
    assert plural(2, "matrix", "matrices") == "2 matrices"
    assert plural(1, "matrix", "matrices") == "1 matrix"


def test_no_hand_made_plurals_left_in_the_app():
    # "{n} input{'s' if n != 1 else ''}" and the like: each was a chance for "1 inputs".
    hand_made = re.compile(r"""['"]s['"] if |else ['"]s['"]""")
    found = [f"{path.relative_to(ROOT)}:{i}"
             for folder in ("core", "gui")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if hand_made.search(line) and path.name != "words.py"]
    assert found == []
