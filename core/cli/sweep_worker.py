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
import threading
from pathlib import Path

from core.errors import StudioError

EXIT_OK = 0
POLL = 0.2  # seconds between looks for finished trials (the lines printed)


def add_sweep_worker_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep-worker`` on the command line's sub-parsers."""
    p = sub.add_parser("sweep-worker", help="run trials of a sweep kept in a shared "
                                            "database (PostgreSQL), e.g. on another machine")
    p.add_argument("--storage", required=True, metavar="URL",
                   help="the study's database, e.g. postgresql://user@host/db (a local "
                        "study file has one driver: the window or 'sweep')")
    p.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    p.add_argument("--workers", type=int, metavar="K",
                   help="trials trained at once on this machine (default: cores - 1, "
                        "at least 1)")
    p.set_defaults(func=sweep_worker_from_args)


def sweep_worker_from_args(args: argparse.Namespace) -> int:
    """Run the ``sweep-worker`` sub-command; returns the exit code (StudioError: the
    caller's one-line message and exit 2)."""
    from core.cli.sweep import load_sweep_dataset, trial_line
    from core.sweeps.driver import SweepDriver
    from core.sweeps.plan import default_workers, is_url
    from core.sweeps.storage import load_sweep

    if not is_url(args.storage):
        raise StudioError(f"--storage must be a database URL (postgresql://user@host/db), "
                          f"not {args.storage!r}: a study file is driven by one process, "
                          f"the window or 'sweep'")
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise StudioError(f"--workers must be at least 1, not {workers}")
    design, space, plan = load_sweep(args.storage, args.study)
    design, data = load_sweep_dataset(design, Path.cwd(), f"the study {args.study!r}")
    plan = dataclasses.replace(plan, workers=workers, storage=args.storage,
                               study_name=args.study)
    print(f"sweep-worker on {args.study!r}: {workers} worker(s), {space.sampler} sampler, "
          f"{space.pruner} pruner, {space.direction} {space.objective}", flush=True)
    driver = SweepDriver(design, data, plan)
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            driver.run()
        except BaseException as exc:  # handed to the main thread, which reports it
            failure.append(exc)

    thread = threading.Thread(target=drive, name="sweep driver", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(POLL)
            for result in driver.take_results():
                print(trial_line(result, space.objective), flush=True)
    except KeyboardInterrupt:
        # Ctrl+C: end this machine's trials (told failed and queued again for the
        # other workers), then exit as any interrupted command does.
        driver.stop()
        thread.join()
        raise
    finally:
        driver.close()
    for result in driver.take_results():
        print(trial_line(result, space.objective), flush=True)
    if failure:
        if isinstance(failure[0], StudioError):
            raise failure[0]
        raise failure[0]
    status = driver.status()
    if status.state == "failed":
        raise StudioError(status.message or "the sweep failed")
    print(f"sweep-worker: study {args.study!r} holds {status.finished_count()} finished "
          f"trial(s); {status.message or 'done'}", flush=True)
    return EXIT_OK
