"""The headless command line: sub-commands that work without a display or Qt.

Each command prints plain text and returns an exit code: 0 on success, 2 on bad input
(with a one-line reason on stderr), 3 when training diverged; ``export`` exits 1 when
the exported model failed verification.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.export import add_export_parser
from core.cli.sweep import add_sweep_parser
from core.cli.sweep_worker import add_sweep_worker_parser
from core.errors import StudioError, layer_location, printable
from core.files.design_file import load_design
from core.training.gradcheck import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


def _shape_text(shape: tuple[int, ...]) -> str:
    """A sample's shape as ``check`` prints it: ``(32, 6, 6)`` for an image (channels,
    height, width), the count ``64`` for features, ``?`` when unknown."""
    if not shape:
        return "?"
    return str(shape[0]) if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"


def _cmd_check(args: argparse.Namespace) -> int:
    from core.design.check import check, layer_rows

    design = load_design(args.design)
    net = design.network
    rows = layer_rows(design)
    try:
        outputs = f"{net.outputs} outputs, {net.parameter_count():,} parameters"
    except (TypeError, ValueError):  # a layer cannot take its input: see the problems
        outputs = "outputs unknown (see the problems below)"
    source = (f"{net.inputs} inputs as images {_shape_text(net.in_shape)}"
              if len(net.in_shape) == 3 else f"{net.inputs} inputs")
    print(f"{printable(Path(args.design).name)}: {source} -> {outputs}")
    width = max((len(layer_location(row.path)) for row in rows), default=0)
    for row in rows:
        print(f"  {layer_location(row.path):<{width}}  {row.summary:<28} "
              f"{_shape_text(row.in_shape):>14} -> {_shape_text(row.out_shape):<14} "
              f"{row.parameters:>10,} params")
    # The window's network check, with the size caps; the dataset is checked by train.
    # A problem about a layer names it as the rows above do ("layers[4] (Dense 10)").
    names = {row.path: row.summary for row in rows}
    problems = check(design, None, need_dataset=False)
    for p in problems:
        label = names.get(p.layer) if p.layer else None
        where = f"{p.path} ({label})" if label else p.path
        text = f"{where}: {p.message}" if where else p.message
        print(f"problem: {printable(text)}", file=sys.stderr)
    return EXIT_BAD_INPUT if problems else EXIT_OK


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from core.training.gradcheck import check_design

    design = load_design(args.design)
    problems = design.validate()
    if problems:
        for p in problems:
            print(f"problem: {printable(str(p))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    rows = check_design(design, samples=args.samples, seed=args.seed)
    rtol, atol = args.tolerance, args.atol
    print("float64 central differences, the step chosen per entry; a parameter passes "
          "when its absolute or its relative error is within tolerance")
    print(f"{'parameter':<32} {'size':>8} {'checked':>7} {'kinks':>5}  {'abs error':>9}  "
          f"{'rel error':>9}")
    failed = []
    for row in rows:
        ok = row.passed(rtol, atol)
        flag = "" if ok else "  <-- above both tolerances"
        if not ok:
            failed.append(row.name)
        print(f"{row.name:<32} {row.size:>8} {row.checked:>7} {row.kinks:>5}  "
              f"{row.absolute_error:9.2e}  {row.relative_error:9.2e}{flag}")
    kinks = sum(row.kinks for row in rows)
    if kinks:
        print(f"{kinks} entries were not compared: every step moved a ReLU-family unit "
              f"across its kink at 0, where the slope jumps (not a failure)")
    worst_rel = max((row.relative_error for row in rows), default=0.0)
    worst_abs = max((row.absolute_error for row in rows), default=0.0)
    summary = (f"largest relative error {worst_rel:.2e} (tolerance {rtol:.0e}), largest "
               f"absolute error {worst_abs:.2e} (tolerance {atol:.0e})")
    if failed:
        print(f"FAILED: {len(failed)} parameter(s) above both tolerances; {summary}")
        return 1
    print(f"OK: {summary}")
    return EXIT_OK


def _cmd_datasets(args: argparse.Namespace) -> int:
    from core.datasets import list_datasets

    print(f"{'name':<16}{'kind':<11}{'task':<16}{'inputs':>7}{'outputs':>8}  description")
    for info in list_datasets():
        print(f"{info.name:<16}{info.kind:<11}{info.task:<16}{info.n_features:>7}"
              f"{info.n_outputs:>8}  {info.description}")
    return EXIT_OK


def _cmd_train(args: argparse.Namespace) -> int:
    from core.cli.train import train_from_args

    return train_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backprop-studio",
        description="Backprop Studio: build neural networks, train them and watch "
                    "backpropagation work. Without a command it opens the window "
                    "(optionally on FILE).",
        epilog="Run 'backprop-studio' alone to open the window, or "
               "'backprop-studio FILE' to open a design or project in it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("check", help="validate a design file and print its layer shapes")
    p.add_argument("design", help="design file (.json)")
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser("gradcheck", help="compare a design's gradients with finite "
                                         "differences (float64)")
    p.add_argument("design", help="design file (.json)")
    p.add_argument("--samples", type=int, default=8, help="batch size of the check")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tolerance", type=float, default=RELATIVE_TOLERANCE,
                   help="relative error tolerance")
    p.add_argument("--atol", type=float, default=ABSOLUTE_TOLERANCE,
                   help="absolute error tolerance (for gradients that are almost 0)")
    p.set_defaults(func=_cmd_gradcheck)
    p = sub.add_parser("train", help="train a design headless; writes metrics, steps, "
                                     "weights and a project file")
    p.add_argument("design", help="design (.json) or project (.bpsproj) file")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in the project file (its weights, "
                        "optimizer state and step count) instead of starting from the seed")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", metavar="NAME", help="a built-in dataset (see 'datasets'; "
                     "mnist and fashion_mnist are downloaded on first use); "
                     "default: the design's own dataset")
    src.add_argument("--csv", metavar="FILE", help="train on a CSV file (header row needed)")
    src.add_argument("--images", metavar="FOLDER",
                     help="train on a folder of PNG/JPEG images, one subfolder per class")
    p.add_argument("--target", metavar="COLUMN", help="the CSV's target column (default: last)")
    p.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                   help="the CSV's task (default: detected)")
    p.add_argument("--image-size", metavar="HxW",
                   help="resize the --images to HEIGHTxWIDTH pixels, e.g. 28x28 (default: "
                        "keep their size, which must then be the same for all)")
    p.add_argument("--grayscale", action="store_true",
                   help="read the --images as one gray channel instead of RGB")
    p.add_argument("--skip-non-images", action="store_true",
                   help="leave out files in the --images folder that are not images")
    p.add_argument("--epochs", type=int, metavar="N", help="override the design's epochs")
    p.add_argument("--seed", type=int, metavar="S", help="override the design's seed")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/<design name>)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("datasets", help="list the built-in datasets")
    p.set_defaults(func=_cmd_datasets)
    add_export_parser(sub)
    add_sweep_parser(sub)
    add_sweep_worker_parser(sub)
    return parser


HEADLESS_COMMANDS = ("check", "gradcheck", "train", "datasets", "export", "sweep",
                     "sweep-worker")


def run_headless(argv: list[str]) -> int:
    """Parse ``argv`` and run a headless command; errors become one-line messages."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own usage errors and --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.func(args)
    except StudioError as exc:
        # Messages quote user content (CSV cells, names): no raw escape sequences.
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
