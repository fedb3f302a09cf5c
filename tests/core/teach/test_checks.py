"""Each lesson's measured check, on runs made headless: which runs count for a variant,
the verdict's wording, and "not measured yet" while a compared variant is missing. (That
every lesson's check holds over seeds is asserted in test_lessons.py, by ``run_all``.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.records.record import RunRecord
from core.teach.checks import (
    WATCH,
    check_lesson,
    lesson_number,
    lesson_run_name,
    variant_runs,
)
from core.teach.lessons import LESSONS, run_variant


@pytest.fixture(scope="module")
def overfitting():
    """The overfitting lesson's three runs exactly as the window trains them by
    default (the variants' own seeds and data)."""
    return {v.name: run_variant(v).record for v in LESSONS["overfitting"].variants}


def test_every_lesson_says_what_to_look_at():
    assert set(WATCH) == set(LESSONS)
    assert lesson_number("overfitting") == 5
    assert lesson_run_name("overfitting", "dropout") == "Lesson 5: dropout"


def test_the_default_overfitting_runs_show_dropout_and_l2_helping(overfitting):
    """The app's own default run (the issue: dropout's accuracy was no better there)."""
    plain, drop, l2 = (overfitting[n] for n in ("large network", "dropout", "l2"))
    assert drop.final_val_metric > plain.final_val_metric
    assert l2.final_val_metric > plain.final_val_metric
    assert drop.final_val_loss < 0.5 * plain.final_val_loss
    verdict = check_lesson("overfitting", overfitting)
    assert verdict.shown is True
    assert verdict.text.startswith(f"Final validation loss {drop.final_val_loss:.2f} with "
                                   f"dropout, {l2.final_val_loss:.2f} with L2 vs "
                                   f"{plain.final_val_loss:.2f} without")
    assert verdict.text.endswith(": dropout and L2 helped")


def test_a_check_waits_for_the_variants_it_compares(overfitting):
    only = {"large network": overfitting["large network"]}
    verdict = check_lesson("overfitting", only)
    assert verdict.shown is None and "Train “dropout” and “l2”" in verdict.text
    one_fix = check_lesson("overfitting", {k: overfitting[k] for k in ("large network",
                                                                       "dropout")})
    assert one_fix.shown is True and one_fix.text.endswith(": dropout helped")
    assert check_lesson("learning_rate", {}).shown is None


def test_runs_that_do_not_show_it_are_told_so(overfitting):
    # The plain run stands in for dropout: no lower validation loss, so no help.
    swapped = dict(overfitting, dropout=overfitting["large network"])
    verdict = check_lesson("overfitting", swapped)
    assert verdict.shown is False
    assert "with dropout it did not help" in verdict.text


def test_a_run_counts_for_the_variant_whose_design_it_trained(overfitting):
    lesson = LESSONS["overfitting"]
    plain = overfitting["large network"]
    renamed = replace(plain.design, name="whatever the document was called")
    again = RunRecord(renamed, name="later")
    changed = RunRecord(replace(plain.design, training=replace(plain.design.training,
                                                                learning_rate=0.5)))
    unfinished = RunRecord(plain.design, end_reason="unfinished")
    found = variant_runs(lesson, [plain, overfitting["dropout"], again, changed,
                                  unfinished])
    assert found == {"large network": again, "dropout": overfitting["dropout"]}


def test_the_convolutions_check_names_accuracies_and_weights():
    runs = {v.name: run_variant(v, epochs=2).record
            for v in LESSONS["convolutions"].variants}
    dense, conv = runs["dense"], runs["conv"]
    verdict = check_lesson("convolutions", runs)
    assert verdict.text.startswith(
        f"Validation accuracy {100 * conv.final_val_metric:.1f} % for the conv net (3,210 "
        f"weights) vs {100 * dense.final_val_metric:.1f} % for the dense network (4,810)")
    assert verdict.shown is (conv.final_val_metric > dense.final_val_metric)
    # The dense run in the conv net's place: no fewer weights, no better: not shown.
    same = check_lesson("convolutions", dict(runs, conv=dense))
    assert same.shown is False and same.text.endswith(
        ": the conv net was not more accurate in these runs")
    assert check_lesson("convolutions", {"dense": dense}).shown is None
