"""``main.py export``: write a design's network as PyTorch code, ONNX or a NumPy script,
verify it against our own predictions, and print the files and the comparison.

Exit 0 when verified (or when the check could not run, which is said), 1 when the
verification failed (the files stay, marked failed), 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import printable
from core.export.formats import EXPORT_FORMATS
from core.export.run import (
    ExportResult,
    dataset_inputs,
    default_target,
    export_model,
    layer_labels,
)
from core.export.source import ExportError, load_source
from core.export.verify import ATOL, RTOL
from core.files.project import PROJECT_SUFFIX

EXIT_OK, EXIT_FAILED = 0, 1


def add_export_parser(sub) -> None:
    """Register ``export`` on the sub-command parsers ``sub``."""
    p = sub.add_parser("export", help="export a design or project as PyTorch code, ONNX or "
                                      "a NumPy script, verified against the app's own "
                                      "predictions")
    p.add_argument("design", metavar="DESIGN_OR_PROJECT",
                   help="project (.bpsproj, with trained weights) or design (.json)")
    p.add_argument("--format", required=True, choices=tuple(EXPORT_FORMATS),
                   help="; ".join(f"{f.key}: {f.description}" for f in EXPORT_FORMATS.values()))
    p.add_argument("--out", metavar="PATH",
                   help="the folder (pytorch, numpy) or .onnx file to write (default: "
                        "beside the input, named after it)")
    p.add_argument("--initial", action="store_true",
                   help="export the design's initial (untrained) weights when it has no "
                        "trained ones")
    p.set_defaults(func=export_from_args)


def export_from_args(args: argparse.Namespace) -> int:
    """Run the ``export`` sub-command; returns the exit code (``ExportError`` and other
    ``StudioError``\\ s become exit 2 in ``run_headless``)."""
    path = Path(args.design)
    source = load_source(path, allow_initial=True)
    if not source.trained and not args.initial:
        what = ("the project has no trained weights" if path.suffix == PROJECT_SUFFIX
                else f"{path.name} is a design file and holds no trained weights")
        raise ExportError(f"{what}; pass --initial to export the initial weights")
    fmt = EXPORT_FORMATS[args.format]
    target = Path(args.out) if args.out else default_target(fmt, path, source.name)
    x, words = dataset_inputs(source.design, path.parent)
    if not source.trained:
        print("note: exporting the initial (untrained) weights")
    result = export_model(source, fmt.key, target, x, x_words=words)
    print_result(result, layer_labels(source.design))
    return EXIT_FAILED if result.ok is False else EXIT_OK


def print_result(result: ExportResult, labels: dict[str, str]) -> None:
    """The files written, the overall verification and one line per layer (``labels``:
    what each runtime layer name is, as ``layer_labels`` gives)."""
    for p in result.paths:
        print(f"wrote {printable(str(p))}")
    v = result.verification
    if not v.skipped:
        print(f"verified on {result.inputs}")
    print(v.summary())
    rows = (*v.layers, *((v.output,) if v.output else ()))
    if v.layers:
        width = max(len(d.name) for d in rows)
        kinds = max(len(labels.get(d.name, "")) for d in rows)
        print(f"  {'layer':<{width}}  {'':<{kinds}}  {'max abs':>9}  {'max rel':>9}")
        for d in rows:
            flag = "" if d.ok else f"  <-- beyond {ATOL:g} + {RTOL:g}·|value|"
            print(f"  {d.name:<{width}}  {labels.get(d.name, ''):<{kinds}}  "
                  f"{d.max_abs:9.2e}  {d.max_rel:9.2e}{flag}")
    if result.ok is False:
        print("FAILED: the exported model does not compute what the app does; the files "
              "are kept for inspection, not for use")
