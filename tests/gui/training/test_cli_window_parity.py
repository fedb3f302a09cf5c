"""The same design, data and seed give bit-identical losses on the command line and in
the window (which trains in its own process): checked for the digits examples, the dense
one and the conv net on the digit images."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest

import main
from core.resources import resource_path


@pytest.mark.parametrize("example,epochs", [("digits.json", 2), ("conv_digits.json", 15)])
def test_the_window_and_the_command_line_give_bit_identical_losses(qtbot, shown_window,
                                                                   tmp_path, capsys,
                                                                   example, epochs):
    # Two epochs (90 steps) are plenty for float32 trajectories to part if anything
    # differed; the conv net trains its full 15 epochs, to its shipped accuracy.
    out = tmp_path / "cli"
    rc = main.main(["train", str(resource_path("examples", example)), "--epochs",
                    str(epochs), "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    with open(out / "steps.csv", newline="", encoding="utf-8") as fh:
        cli = [float(row["loss"]) for row in csv.DictReader(fh)]  # written with repr()

    window = shown_window
    assert window.open_example(example)
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, epochs=epochs)),
                               "epochs")
    batches: list[np.ndarray] = []
    window.training.controller.batch_received.connect(
        lambda batch: batches.append(np.array(batch.losses, dtype=np.float64)))
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=120000):
        window.training.train()
    losses = np.concatenate(batches).tolist()
    assert len(losses) == len(cli) == epochs * 45  # 1,437 training images, batches of 32
    assert losses == cli  # exact float equality, step by step
    run = window.runs_panel.runs()[-1]
    assert run.end_reason == "finished"
    with open(out / "metrics.csv", newline="", encoding="utf-8") as fh:
        last = list(csv.DictReader(fh))[-1]
    assert run.final_val_metric == float(last["val_metric"])
    if example == "conv_digits.json":
        assert run.final_val_metric >= 0.985  # measured 0.9916 (356 of 359 images)
