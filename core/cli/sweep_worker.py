"""``main.py sweep-worker --storage URL --study NAME [--workers K]``: more workers for a
sweep whose study lives in a shared database, typically on another machine.

Everything a worker needs (the design, the space, the budget) is read from the study,
which ``sweep --storage URL`` (or the window) created; the design's dataset is loaded
as ``sweep`` loads it. K local training processes then run trials of the same study
until it holds its budget or someone asks it to stop (the window's Stop, or
``request_stop``), a line printed per finished trial. Exit 0 then; exit 2 with one line
for a database that cannot be reached, an unknown study, or a study Backprop Studio did
not make.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
from pathlib import Path

from core.errors import StudioError

EXIT_OK = 0
EXIT_INTERRUPTED = 130  # as for any command ended by Ctrl+C


def add_sweep_worker_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep-worker`` on the command line's sub-parsers."""
    p = sub.add_parser("sweep-worker", help="run trials of a sweep kept in a shared "
                                            "database (PostgreSQL), e.g. on another machine")
    p.add_argument("--storage", required=True, metavar="URL",
                   help="the study's database, e.g. postgresql://user@host/db (a study "
                        "file has one driver: the window or 'sweep')")
    p.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    p.add_argument("--workers", type=int, metavar="K",
                   help="trials trained at once on this machine, each in its own process "
                        "(default: the cores but one, at least 1)")
    p.set_defaults(func=sweep_worker_from_args)


def sweep_worker_from_args(args: argparse.Namespace) -> int:
    """Run the ``sweep-worker`` sub-command; returns the exit code (StudioError: the
    caller's one-line message and exit 2)."""
    from core.cli.sweep import load_design_data, quiet_optuna, trial_line
    from core.datasets.source import to_send
    from core.sweeps.driver import SweepDriver, host_worker_name
    from core.sweeps.plan import default_workers, is_url
    from core.sweeps.storage import load_sweep, shown

    if not is_url(args.storage):
        raise StudioError(f"--storage must be a database URL such as "
                          f"postgresql://user@host/db, not {args.storage!r}: a study file "
                          f"is driven by one process, the window or 'sweep'")
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise StudioError(f"--workers must be at least 1, not {workers}")
    quiet_optuna()
    design, space, plan = load_sweep(args.storage, args.study)
    if design.dataset is None:
        raise StudioError(f"the study {args.study!r} names no dataset to train on")
    # The dataset is loaded here as 'sweep' loads it; a relative file path in it (a CSV)
    # is read from the folder this command runs in.
    design, dataset = load_design_data(design, Path.cwd() / "study")
    plan = dataclasses.replace(plan, workers=workers)
    budget = "no trial limit" if plan.trials is None else f"{plan.trials} trials"
    print(f"sweep-worker {host_worker_name()} on {args.study!r} in {shown(args.storage)}: "
          f"{workers} worker(s), {budget}, {space.sampler} sampler, {space.pruner} pruner, "
          f"{space.direction} {space.objective}", flush=True)
    finished = []

    def show(result) -> None:
        finished.append(result)
        print(trial_line(result, space.objective), flush=True)

    # A joining worker leaves a stop request standing (it is meant for it too) and names
    # its trials host:pid, so the trial table tells the machines apart.
    driver = SweepDriver(design, to_send(dataset, design.dataset, Path.cwd()), plan,
                         on_result=show, clear_stop=False, worker_name=host_worker_name(),
                         task=dataset.task)
    stopped = []
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(signum, frame) -> None:
        # The first Ctrl+C stops cleanly: this machine's running trials end and are
        # queued again for the other workers. A second one interrupts at once (those
        # trials are then failed and retried by the others' heartbeat check).
        signal.signal(signal.SIGINT, previous)
        stopped.append(True)
        print("sweep-worker: stopping; running trials go back to the queue (Ctrl+C again "
              "to quit at once)", flush=True)
        driver.stop()

    signal.signal(signal.SIGINT, interrupted)
    try:
        driver.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    trained = sum(r.state != "fail" for r in finished)
    print(f"sweep-worker: {'stopped' if stopped else 'done'}, {trained} trial(s) "
          f"trained here", flush=True)
    return EXIT_INTERRUPTED if stopped else EXIT_OK
