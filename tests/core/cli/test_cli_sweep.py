"""``main.py sweep``: a line per trial, the best settings, trials.csv, resume, exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import main
from core.files.project import load_project
from core.resources import resource_path


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    """A fast XOR design (100 samples, 3 epochs) and a two-setting space."""
    design = json.loads(Path(resource_path("examples", "xor.json")).read_text())
    design["training"]["epochs"] = 3
    design["dataset"]["samples"] = 100
    (tmp_path / "xor.json").write_text(json.dumps(design))
    space = {"parameters": {"training.learning_rate": {"low": 0.01, "high": 1.0, "log": True},
                            "training.optimizer": {"choices": ["sgd", "adam"]}},
             "objective": "val_accuracy", "sampler": "random"}
    (tmp_path / "space.json").write_text(json.dumps(space))
    return tmp_path / "xor.json", tmp_path / "space.json"


def test_sweep_prints_trials_and_best_and_writes_csv(capsys, files, tmp_path):
    design, space = files
    out = tmp_path / "out"
    rc, text, err = run(capsys, "sweep", design, "--space", space, "--trials", 3, "--out", out)
    assert rc == 0, err
    lines = [line for line in text.splitlines() if line.startswith("trial ")]
    assert len(lines) == 3
    assert "learning_rate" in lines[0] and "val_accuracy" in lines[0] and "complete" in lines[0]
    assert "best: trial " in text
    with open(out / "trials.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["number", "state", "value", "seconds", "worker",
                             "training.learning_rate", "training.optimizer"]
    assert [r["state"] for r in rows] == ["complete"] * 3
    assert all(0.0 <= float(r["value"]) <= 1.0 for r in rows)
    assert (out / "study.sweeps.db").is_file()
    rc, text, _ = run(capsys, "sweep", design, "--space", space, "--trials", 4, "--out", out)
    assert rc == 0
    assert [line.split()[1] for line in text.splitlines() if line.startswith("trial ")] == ["3"]
    with open(out / "trials.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    # The project keeps every trial's run, resumed ones added, and the best settings.
    project = load_project(out / "sweep.bpsproj")
    assert [r.name.split(":")[0] for r in project.runs] == [f"Sweep xor #{i}" for i in range(4)]
    best = max(rows, key=lambda r: float(r["value"]))
    assert project.design.training.optimizer == best["training.optimizer"]
    assert project.design.training.learning_rate == float(best["training.learning_rate"])


def test_a_bad_space_exits_2_naming_the_parameter(capsys, files, tmp_path):
    design, space = files
    space.write_text(json.dumps({"parameters": {"training.learning_rate":
                                                {"low": 1.0, "high": 0.1}}}))
    rc, text, err = run(capsys, "sweep", design, "--space", space, "--trials", 2,
                        "--out", tmp_path / "out")
    assert rc == 2
    assert err.strip().splitlines() == [
        "error: training.learning_rate: low (1.0) must be below high (0.1)"]
    assert not (tmp_path / "out").exists()


def test_an_unusable_storage_exits_2(capsys, files, tmp_path):
    design, space = files
    (tmp_path / "afile").write_text("x")
    rc, _, err = run(capsys, "sweep", design, "--space", space, "--trials", 1,
                     "--storage", tmp_path / "afile" / "s.db", "--out", tmp_path / "o")
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "for the sweep storage" in err


def test_two_workers_train_trials_at_once_in_their_own_processes(capsys, files, tmp_path):
    design, space = files
    out = tmp_path / "out"
    rc, text, err = run(capsys, "sweep", design, "--space", space, "--trials", 6,
                        "--workers", 2, "--out", out)
    assert rc == 0, err
    assert "2 worker(s)" in text
    with open(out / "trials.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["number"]) for r in rows) == list(range(6))
    assert [r["state"] for r in rows] == ["complete"] * 6
    assert {r["worker"] for r in rows} == {"worker 1", "worker 2"}  # both trained some


def test_no_budget_exits_2(capsys, files, tmp_path):
    design, space = files
    rc, _, err = run(capsys, "sweep", design, "--space", space, "--out", tmp_path / "o")
    assert rc == 2 and "give a number of trials, a time limit, or both" in err
