"""The one run loop: ``run_session`` feeds every consumer every snapshot, and it is the
only place in ``core`` that iterates a trainer."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.snapshots import RunEnd, StepSnapshot
from core.resources import resource_path
from core.training.session import run_session
from core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[3]


def xor_trainer(epochs: int = 2, example: str = "xor.json", **settings) -> Trainer:
    design = load_design(resource_path("examples", example))
    design = replace(design, training=replace(design.training, epochs=epochs, **settings))
    return Trainer(design, load_dataset(DatasetSpec.from_dict(design.dataset)))


class Collect:
    def __init__(self) -> None:
        self.snaps: list = []

    def add(self, snap) -> None:
        self.snaps.append(snap)


def test_every_consumer_gets_every_snapshot_in_order():
    a, b = Collect(), Collect()
    end = run_session(xor_trainer(), a, b)
    assert a.snaps == b.snaps and a.snaps[-1] is end
    assert end.reason == "finished"
    assert sum(isinstance(s, StepSnapshot) for s in a.snaps) == 2 * 32
    # The same seed gives the same snapshots as iterating the trainer directly.
    direct = list(xor_trainer().run())
    assert [s.loss for s in direct if isinstance(s, StepSnapshot)] == \
        [s.loss for s in a.snaps if isinstance(s, StepSnapshot)]


def test_an_interrupt_from_a_consumer_passes_through_and_keeps_what_was_fed():
    seen = Collect()

    class Interrupt:
        def add(self, snap) -> None:
            if len(seen.snaps) == 10:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_session(xor_trainer(), seen, Interrupt())
    assert len(seen.snaps) == 10 and not any(isinstance(s, RunEnd) for s in seen.snaps)


def test_a_diverging_run_ends_without_numpy_warnings():
    trainer = xor_trainer(5, "sine_regression.json", optimizer="sgd", learning_rate=1000.0,
                          blow_up="off")
    end = run_session(trainer)  # pytest turns RuntimeWarnings into errors
    assert end.reason == "diverged" and end.what in ("loss", "gradient", "weight update")


def trainer_iterations(path: Path) -> list[int]:
    """Lines of ``path`` that call ``.run(`` on something named like a trainer."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "run":
            target = ast.unparse(node.func.value).lower()
            if "trainer" in target:
                lines.append(node.lineno)
    return lines


def test_run_session_is_the_only_loop_over_a_trainer_in_core():
    loops = {str(p.relative_to(ROOT)): trainer_iterations(p)
             for p in sorted((ROOT / "core").rglob("*.py"))}
    loops = {p: lines for p, lines in loops.items() if lines}
    assert list(loops) == ["core/training/session.py"], loops
