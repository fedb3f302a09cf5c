"""The dataset summary speaks the window's language: a detected task points to the Task
chooser above it, not to a command-line argument."""

from __future__ import annotations

from core.datasets import load_csv
from gui.editor.dataset_controls import dataset_summary


def test_a_detected_task_points_to_the_task_chooser(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(12)))
    text = dataset_summary(load_csv(path, val_fraction=0.0))
    assert "detected as classification" in text
    assert "choose “regression” under Task above to override" in text
    assert "pass task" not in text and "--task" not in text


def test_a_chosen_task_says_nothing_about_detection(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(12)))
    text = dataset_summary(load_csv(path, task="regression", val_fraction=0.0))
    assert "detected" not in text
