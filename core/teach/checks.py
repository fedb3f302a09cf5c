"""Each lesson's measured check: what to look at, and whether the runs made show it.

:func:`variant_runs` finds the latest recorded run of each of a lesson's variants among a
project's runs (a run counts for a variant when it trained the variant's design as
loaded, whatever its name). :func:`check_lesson` measures those runs the way the lesson's
claim is stated and says so in one sentence, e.g. "Final validation loss 1.35 with
dropout vs 4.50 without: dropout helped." with ``shown`` True, False (these runs do not
show it) or None (a variant it compares has not been run yet). ``WATCH`` says per lesson
what to look at. The checks read ``RunRecord`` figures only (epoch history, gradient
curves, how the run ended), so they work on runs from the window, the command line and
``core.teach.lessons.run_variant`` alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from core.design.spec import Design
from core.records.record import RunRecord
from core.teach.lessons import LESSONS, Lesson, LessonVariant

__all__ = ["WATCH", "Verdict", "check_lesson", "epochs_to", "find_variant", "grad_ratio",
           "lesson_number", "lesson_run_name", "variant_runs"]

Runs = Mapping[str, RunRecord]


@dataclass(frozen=True)
class Verdict:
    """A lesson's check on its runs: ``shown`` True (the runs show the claim), False
    (they do not), None (not measured: ``text`` says which variants to train)."""

    shown: bool | None
    text: str


WATCH = {
    "learning_rate": "the training loss of the three rates after 60 epochs",
    "activations": "how many epochs each activation needs to bring the training loss to 0.2",
    "vanishing_gradients": "the gradient plot: the first layer's gradient against the "
                           "last layer's",
    "exploding_gradients": "whether the run diverges, and the loss with clipping",
    "overfitting": "the validation loss and validation accuracy at the end, with and "
                   "without dropout or L2",
    "batch_norm": "how many epochs each network needs to bring the training loss to 0.4",
    "residual": "the final training loss: chance is 0.69",
    "images": "the validation accuracy: the share of unseen digits named correctly",
    "convolutions": "the validation accuracy of each network, and its number of weights "
                    "(in the Design panel)",
    "epochs": "the steps per epoch, and the training loss after the same number of epochs",
    "forward_backward": "the training loss from the first epoch to the last",
    "learning_rate_sweep": "the final training loss against the learning rate (log "
                           "axis): high on the left, lowest in the middle, diverged on "
                           "the right",
}


# ---------------------------------------------------------------- finding runs


def _key(design: Design) -> Design:
    return replace(design, name="")


def variant_runs(lesson: Lesson, runs: Iterable[RunRecord]) -> dict[str, RunRecord]:
    """The latest run of each variant of ``lesson`` among ``runs`` (in recorded order),
    by variant name; a variant never run (or only changed designs of it) is absent.
    Unfinished runs (saved while training) do not count."""
    wanted = [(_key(v.design), v.name) for v in lesson.variants]
    found: dict[str, RunRecord] = {}
    for record in runs:
        design = _key(record.design)
        name = next((n for d, n in wanted if d == design), None)
        if name is not None and record.end_reason != "unfinished":
            found[name] = record
    return found


def find_variant(design: Design, lesson: Lesson | None = None
                 ) -> tuple[Lesson, LessonVariant] | None:
    """The lesson variant whose design ``design`` is (names aside), looking in
    ``lesson`` first and then every lesson; None if it is none of them."""
    key = _key(design)
    for candidate in ([lesson] if lesson is not None else []) + list(LESSONS.values()):
        for variant in candidate.variants:
            if _key(variant.design) == key:
                return candidate, variant
    return None


def lesson_number(key: str) -> int:
    """The lesson's 1-based place in ``LESSONS`` (the Lessons menu's order)."""
    return list(LESSONS).index(key) + 1


def lesson_run_name(key: str, variant: str) -> str:
    """The name of a run of a lesson's variant: ``Lesson 5: dropout``."""
    return f"Lesson {lesson_number(key)}: {variant}"


# ------------------------------------------------------------------- measures


def _column(record: RunRecord, name: str) -> np.ndarray:
    return np.array([row[name] for row in record.history], dtype=np.float64)


def epochs_to(record: RunRecord, loss: float) -> int | None:
    """First recorded epoch whose training loss is at most ``loss``; None if none."""
    for row in record.history:
        if row["train_loss"] <= loss:
            return int(row["epoch"])
    return None


def grad_ratio(record: RunRecord, rows: int = 50) -> float:
    """Median over the first ``rows`` recorded steps of first-layer / last-layer gradient
    norm (``grad_curves`` columns 1 and -1): about 1 when the gradient reaches the first
    layer intact, tiny when it vanishes on the way back; NaN if not measured."""
    curves = record.grad_curves
    if curves.ndim != 2 or curves.shape[1] < 3:
        return math.nan
    first, last = curves[:rows, 1], curves[:rows, -1]
    ok = np.isfinite(first) & np.isfinite(last) & (last > 0)
    return float(np.median(first[ok] / last[ok])) if np.any(ok) else math.nan


def _steps_per_epoch(record: RunRecord) -> int:
    return int(record.history[0]["step"]) if record.history else 0


def _num(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.2g}" if abs(x) < 0.01 else f"{x:.2f}"


def _loss(record: RunRecord) -> str:
    return "diverged" if record.end_reason == "diverged" else _num(record.final_train_loss)


def _reached(n: int | None, record: RunRecord) -> str:
    return str(n) if n is not None else f"not within {record.epochs}"


def _verdict(shown: bool, measured: str, yes: str, no: str) -> Verdict:
    return Verdict(bool(shown), f"{measured}: {yes if shown else no}")


# --------------------------------------------------------------------- checks


def _learning_rate(r: Runs) -> Verdict:
    good, low, high = r["good"], r["too low"], r["too high"]
    g = good.final_train_loss
    wild = high.end_reason == "diverged" or not high.final_train_loss < 3 * g
    slow = low.final_train_loss > 2.5 * g
    return _verdict(
        wild and slow and good.end_reason != "diverged",
        f"Final training loss: good {_loss(good)}, too low {_loss(low)}, too high "
        f"{_loss(high)}",
        "the good rate learned; too low crawled and too high overshot",
        "these runs do not show the extremes failing")


def _activations(r: Runs) -> Verdict:
    n = {k: epochs_to(v, 0.2) for k, v in r.items()}
    slow = n["sigmoid"] if n["sigmoid"] is not None else math.inf
    fast = [n[k] for k in ("tanh", "relu")]
    return _verdict(
        all(x is not None and x < slow for x in fast),
        "Epochs to training loss 0.2: " + ", ".join(
            f"{k} {_reached(n[k], r[k])}" for k in ("relu", "tanh", "sigmoid")),
        "relu and tanh learn faster than sigmoid", "sigmoid was not the slowest here")


def _vanishing(r: Runs) -> Verdict:
    ratios = {k: grad_ratio(v) for k, v in r.items()}
    plain = ratios.pop("deep sigmoid")
    shown = plain < 1e-3 and all(x > 100 * plain for x in ratios.values())
    return _verdict(
        shown, "First-to-last layer gradient ratio: deep sigmoid " + _num(plain) + "".join(
            f", {k} {_num(x)}" for k, x in ratios.items()),
        "the gradient vanishes in the plain sigmoid stack; the remedies keep it",
        "the plain stack's gradient did not vanish here")


def _exploding(r: Runs) -> Verdict:
    wild, clip = r["large init"], r["large init + clipping"]
    losses = _column(clip, "train_loss")
    fine = bool(losses.size) and bool(np.all(np.isfinite(losses))) \
        and clip.end_reason != "diverged" and losses[-1] < losses[0]
    return _verdict(
        wild.end_reason == "diverged" and fine,
        f"Without clipping the run {wild.ended}; with clipping the training loss went "
        f"{_num(losses[0]) if losses.size else '-'} → {_loss(clip)}",
        "clipping kept the exploding gradient in check", "these runs do not show it")


def _overfitting(r: Runs) -> Verdict:
    plain = r["large network"]
    fixes = {k: v for k, v in r.items() if k != "large network"}
    words = {"dropout": "with dropout", "l2": "with L2"}
    vl, va = plain.final_val_loss, plain.final_val_metric
    # Helped: a clearly lower validation loss, and no lower accuracy.
    helped = {k: v.final_val_loss < 0.9 * vl and v.final_val_metric >= va
              for k, v in fixes.items()}
    measured = (
        "Final validation loss " + ", ".join(
            f"{_num(v.final_val_loss)} {words.get(k, k)}" for k, v in fixes.items())
        + f" vs {_num(vl)} without (lowest {_num(plain.best_val_loss)} early on); "
        "validation accuracy " + ", ".join(
            f"{_num(v.final_val_metric)}" for v in fixes.values()) + f" vs {_num(va)}")
    shown = all(helped.values())
    yes = " and ".join(words.get(k, k)[5:] for k in fixes) + " helped"
    no = "; ".join(f"{words.get(k, k)} it did not help" for k, ok in helped.items()
                   if not ok)
    return _verdict(shown, measured, yes, no)


def _batch_norm(r: Runs) -> Verdict:
    plain, bn = r["plain"], r["batch norm"]
    np_, nb = epochs_to(plain, 0.4), epochs_to(bn, 0.4)
    return _verdict(
        nb is not None and (np_ is None or np_ > 2 * nb),
        f"Epochs to training loss 0.4: with BatchNorm {_reached(nb, bn)}, plain "
        f"{_reached(np_, plain)}", "BatchNorm sped training up",
        "BatchNorm did not speed it up here")


def _residual(r: Runs) -> Verdict:
    plain, res = r["plain"], r["residual"]
    return _verdict(
        plain.final_train_loss > 0.6 and res.final_train_loss < 0.3,
        f"Final training loss: plain {_loss(plain)}, residual {_loss(res)}",
        "the plain stack is stuck at chance; the residual network learned",
        "these runs do not show it")


def _images(r: Runs) -> Verdict:
    run = r["digits MLP"]
    acc = run.final_val_metric
    return _verdict(acc >= 0.95, f"Validation accuracy {_num(acc)}",
                    "at least 95 of 100 unseen digits named correctly",
                    "below 0.95 in this run")


def _percent(x: float) -> str:
    return f"{100 * x:.1f} %" if math.isfinite(x) else "-"


def _convolutions(r: Runs) -> Verdict:
    dense, conv = r["dense"], r["conv"]
    weights = {k: v.design.network.parameter_count() for k, v in r.items()}
    da, ca = dense.final_val_metric, conv.final_val_metric
    return _verdict(
        weights["conv"] < weights["dense"] and math.isfinite(ca)
        and (not math.isfinite(da) or ca > da),
        f"Validation accuracy {_percent(ca)} for the conv net ({weights['conv']:,} "
        f"weights) vs {_percent(da)} for the dense network ({weights['dense']:,})",
        "fewer weights, yet more unseen digits named correctly",
        "the conv net was not more accurate in these runs")


def _epochs(r: Runs) -> Verdict:
    order = [k for k in ("batch 10", "batch 25", "batch 320") if k in r]
    spe = {k: _steps_per_epoch(r[k]) for k in order}
    measured = "Steps per epoch: " + ", ".join(f"{k} {spe[k]}" for k in order)
    small, full = r["batch 10"], r["batch 320"]
    measured += (f"; training loss after {small.epochs} epochs: batch 10 {_loss(small)}, "
                 f"batch 320 {_loss(full)}")
    steps = [spe[k] for k in order]
    return _verdict(
        steps == sorted(steps, reverse=True) and spe["batch 320"] == 1
        and small.final_train_loss < 0.5 * full.final_train_loss, measured,
        "smaller batches take more steps per epoch and learn in fewer epochs",
        "these runs do not show it")


def _forward_backward(r: Runs) -> Verdict:
    run = r["2-3-1"]
    losses = _column(run, "train_loss")
    first = losses[0] if losses.size else math.nan
    return _verdict(
        bool(losses.size) and losses[-1] < 0.15 and losses[-1] < 0.6 * first,
        f"Training loss {_num(first)} after epoch 1, {_loss(run)} after {run.epochs}",
        "repeating Δw = -α ∂E/∂w solved XOR", "the error has not come down yet")


_CHECKS: dict[str, tuple[tuple[str, ...], Callable[[Runs], Verdict]]] = {
    # lesson key: (variants the check needs, the check)
    "learning_rate": (("good", "too low", "too high"), _learning_rate),
    "activations": (("sigmoid", "tanh", "relu"), _activations),
    "vanishing_gradients": (("deep sigmoid",), _vanishing),
    "exploding_gradients": (("large init", "large init + clipping"), _exploding),
    "overfitting": (("large network",), _overfitting),
    "batch_norm": (("plain", "batch norm"), _batch_norm),
    "residual": (("plain", "residual"), _residual),
    "images": (("digits MLP",), _images),
    "convolutions": (("dense", "conv"), _convolutions),
    "epochs": (("batch 10", "batch 320"), _epochs),
    "forward_backward": (("2-3-1",), _forward_backward),
}


def check_lesson(key: str, runs: Runs) -> Verdict:
    """Measure lesson ``key``'s claim on ``runs`` (variant name -> its run, e.g. from
    :func:`variant_runs`). Lessons that compare a variant with remedies need the variant
    and at least one remedy; the others need every variant named in ``_CHECKS``."""
    lesson = LESSONS[key]
    needed, check = _CHECKS[key]
    missing = [v for v in needed if v not in runs]
    others = [v.name for v in lesson.variants if v.name not in needed]
    if len(needed) == 1 and others and not any(name in runs for name in others):
        missing += others  # a variant compared with remedies: at least one of them
    if missing:
        names = [f"“{m}”" for m in missing]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return Verdict(None, f"Train {listed} to measure it (or Run all variants).")
    return check({k: v for k, v in runs.items() if k in {x.name for x in lesson.variants}})
