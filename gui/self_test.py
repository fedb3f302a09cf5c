"""``backprop-studio --self-test``: a quick end-to-end check of an installation.

Meant for the packaged executable (CI runs it on the PyInstaller build) but works the same
from a checkout (``python main.py --self-test``). It starts the real main window
(offscreen unless ``QT_QPA_PLATFORM`` says otherwise) and checks, in order:

1. the shipped resources are found through ``core.resources.resource_path`` (inside the
   bundle when frozen): examples, datasets with their licence, icons; every shipped
   dataset reads;
2. the window icon is set;
3. Help > About shows the version from the package metadata (not "development
   checkout");
4. a corrupt and a missing file given as the startup file open the example instead and
   show why in the window's banner;
5. the XOR example trains in the training process for at least ``MIN_STEPS`` steps, then
   is stopped;
6. a project (``.bpsproj``) with the trained weights is saved into a temporary folder,
   opened in the window, saved again through the window and read back: the design and
   every weight array are equal;
7. the trained project exports to ONNX and to the NumPy script, and both verify;
8. a two-trial sweep runs in a worker process and its SQLite study holds both trials
   (Optuna, SQLAlchemy and their migration files are in the bundle);
9. settings (the recent-files list) were written, outside the installation folder (the
   bundle and one-folder directory, not a folder the executable merely sits in, such as
   the home folder: see ``settings_placement_problem``).

It prints one line per check to stdout and exits 0; on the first failure it prints the
reason to stderr and exits 1. A watchdog (``--timeout``, default ``TIMEOUT_S`` seconds)
ends a stuck run with exit code 2. The self-test uses its own settings file (application
name "Backprop Studio self-test") so it never touches the user's recent files or layout,
and removes it at the end.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

MIN_STEPS = 300
TIMEOUT_S = 30.0
EXAMPLE = "xor.json"
EXIT_FAILED, EXIT_TIMEOUT = 1, 2


class SelfTestFailure(Exception):
    """A check failed; the message says which and why."""


def _say(text: str) -> None:
    print(f"self-test: {text}", flush=True)


def _parse(argv: list[str]) -> float:
    timeout = TIMEOUT_S
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--timeout" and args:
            timeout = float(args.pop(0))
        elif arg.startswith("--timeout="):
            timeout = float(arg.split("=", 1)[1])
        else:
            raise SelfTestFailure(f"unknown self-test argument {arg!r} "
                                  "(usage: --self-test [--timeout SECONDS])")
    return timeout


def run_self_test(argv: list[str]) -> int:
    """Run the checks; returns the process exit code (0 passed, 1 failed, 2 timed out)."""
    try:
        timeout = _parse(argv)
    except (SelfTestFailure, ValueError) as exc:
        print(f"self-test FAILED: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Last resort if the GUI thread itself is stuck (the QTimer watchdog needs the event
    # loop): dump every thread's stack and exit.
    faulthandler.dump_traceback_later(timeout + 15, exit=True)
    try:
        with tempfile.TemporaryDirectory(prefix="backprop-studio-self-test-") as tmp:
            return _run(Path(tmp), timeout)
    finally:
        faulthandler.cancel_dump_traceback_later()


def _run(workdir: Path, timeout: float) -> int:
    from gui.app import APP_NAME, configure_application
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    app.setApplicationName(f"{APP_NAME} self-test")  # its own settings file
    test = SelfTest(app, MainWindow, workdir, timeout)
    test.begin()
    app.exec()
    return test.finish()


def _about_text(app, window) -> str:
    """Trigger Help > About and read the box's text (closing it)."""
    action = next((a for menu_action in window.menuBar().actions() if menu_action.menu()
                   for a in menu_action.menu().actions() if a.text().startswith("&About")),
                  None)
    if action is None:
        raise SelfTestFailure("Help > About is missing from the menu bar")
    seen: list[str] = []
    deadline = time.monotonic() + 5.0

    def close_box() -> None:
        box = app.activeModalWidget()
        if not isinstance(box, QMessageBox):
            box = next((w for w in app.topLevelWidgets()
                        if isinstance(w, QMessageBox) and w.isVisible()), None)
        if box is not None:
            seen.append(box.text())
            box.done(0)
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, close_box)

    QTimer.singleShot(0, close_box)
    action.trigger()  # QMessageBox.about runs its own event loop until close_box ends it
    if not seen:
        raise SelfTestFailure("Help > About did not open a message box")
    return seen[0]


def _read_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backprop-studio")
    except PackageNotFoundError:
        raise SelfTestFailure("package metadata for backprop-studio is missing (Help > About "
                              "would say 'development checkout'); a bundle must copy it") from None


def installation_dirs(executable: Path, bundle: Path | None) -> list[Path]:
    """The folders that belong to an installation and must not receive settings.

    ``bundle`` is PyInstaller's ``sys._MEIPASS``: ``<folder>/_internal`` beside the
    executable in the one-folder form, a temporary folder in the one-file form. The
    installation is that bundle folder and, for the one-folder form, the folder holding
    the executable and ``_internal/``. The folder a one-file executable merely sits in
    (``~``, ``~/Downloads``, ``/opt``) is not part of it.
    """
    exe_dir = executable.parent
    if bundle is None:
        return [exe_dir]
    dirs = [bundle]
    if bundle.parent == exe_dir or bundle == exe_dir:  # one folder: its own directory
        dirs.append(exe_dir)
    return dirs


def settings_placement_problem(settings_file: Path, executable: Path,
                               bundle: Path | None, home: Path) -> str:
    """Why ``settings_file`` is written inside the installation, or "" if it is not.

    Inside means: in the bundle folder or the one-folder directory, at any depth, or
    directly beside the executable. The user's home folder and its ancestors are never
    an installation folder (a one-folder build unpacked straight into ``~`` still writes
    to ``~/.config``, which is where settings belong).
    """
    for folder in installation_dirs(executable, bundle):
        if home.is_relative_to(folder):
            continue
        if settings_file.is_relative_to(folder):
            return f"settings are written inside the installation folder {folder}: {settings_file}"
    if settings_file.parent == executable.parent:
        return f"settings are written beside the executable: {settings_file}"
    return ""


def _installation_problem(settings_file: Path) -> str:
    """``settings_placement_problem`` for this process; "" when not frozen."""
    if not getattr(sys, "frozen", False):
        return ""
    bundle = getattr(sys, "_MEIPASS", None)
    return settings_placement_problem(settings_file, Path(sys.executable).resolve(),
                                      Path(bundle).resolve() if bundle else None,
                                      Path.home().resolve())


class SelfTest(QObject):
    """Runs the checks one after another from the event loop (training is asynchronous)."""

    def __init__(self, app, window_class, workdir: Path, timeout: float) -> None:
        super().__init__()
        self.app = app
        self.window_class = window_class
        self.window = None
        self.workdir = workdir
        self.timeout = timeout
        self.code: int | None = None
        self.stage = "starting"
        self.steps = 0
        self.last_step = -1
        self.first_loss = self.last_loss = float("nan")
        self.weights = None
        self.stop_asked = False
        self.thread_seen = False
        self.t0 = time.perf_counter()
        self.watchdog = QTimer(self)
        self.watchdog.setSingleShot(True)
        self.watchdog.timeout.connect(self._on_timeout)

    # ------------------------------------------------------------- control
    def begin(self) -> None:
        self.watchdog.start(int(self.timeout * 1000))
        QTimer.singleShot(0, self._first_checks)

    def finish(self) -> int:
        """After the event loop: stop any run, remove the settings file."""
        if self.window is not None:
            self.window.training.shutdown()
        settings = QSettings()
        settings.clear()
        settings.sync()
        Path(settings.fileName()).unlink(missing_ok=True)
        return EXIT_FAILED if self.code is None else self.code

    def _fail(self, reason: str) -> None:
        if self.code is not None:
            return
        self.code = EXIT_FAILED
        print(f"self-test FAILED at {self.stage}: {reason}", file=sys.stderr, flush=True)
        self.app.exit(EXIT_FAILED)

    def _pass(self) -> None:
        self.code = 0
        _say(f"passed in {time.perf_counter() - self.t0:.1f} s")
        self.app.exit(0)

    @Slot()
    def _on_timeout(self) -> None:
        print(f"self-test FAILED: timed out after {self.timeout:g} s at {self.stage} "
              f"({self.steps} steps trained)", file=sys.stderr, flush=True)
        # A run that does not stop may hold the event loop's exit up: leave at once.
        os._exit(EXIT_TIMEOUT)

    def _guarded(self, stage: str, fn) -> None:
        self.stage = stage
        try:
            fn()
        except SelfTestFailure as exc:
            self._fail(str(exc))
        except Exception as exc:  # a bug anywhere is a failed self-test, with its type
            self._fail(f"{type(exc).__name__}: {exc}")

    # -------------------------------------------------------------- checks
    @Slot()
    def _first_checks(self) -> None:
        self._guarded("resources", self._check_resources)
        if self.code is None:
            self._guarded("window", self._open_window)
        if self.code is None:
            self._guarded("icon", self._check_icon)
        if self.code is None:
            self._guarded("about", self._check_about)
        if self.code is None:
            self._guarded("bad startup files", self._check_bad_files)
        if self.code is None:
            self._guarded("training", self._start_training)

    def _check_resources(self) -> None:
        from core.datasets.shipped import SHIPPED, read_raw
        from core.resources import resource_path, resources_root

        root = resources_root()
        bundle = getattr(sys, "_MEIPASS", None)
        if getattr(sys, "frozen", False) and (
                bundle is None or not root.is_relative_to(Path(bundle))):
            raise SelfTestFailure(f"frozen, but resources are at {root}, outside the "
                                  f"bundle {bundle}")
        wanted = [resource_path("examples", EXAMPLE),
                  resource_path("datasets", "COPYING-scikit-learn"),
                  resource_path("datasets", "README.md"),
                  resource_path("icons", "backprop-studio.svg"),
                  resource_path("icons", "backprop-studio.png")]
        missing = [str(p) for p in wanted if not p.is_file()]
        if missing:
            raise SelfTestFailure("missing resource files: " + ", ".join(missing))
        examples = sorted(p.name for p in resource_path("examples").glob("*.json"))
        for name in SHIPPED:
            read_raw(name)
        where = "bundle" if getattr(sys, "frozen", False) else "checkout"
        _say(f"resources found in the {where} at {root}: {len(examples)} examples, "
             f"datasets {', '.join(SHIPPED)} read, licence and icons present")

    def _open_window(self) -> None:
        self.window = self.window_class()
        if not self.window.open_example(EXAMPLE):
            raise SelfTestFailure(f"the example {EXAMPLE} did not open")
        self.window.show()
        self.app.processEvents()
        _say(f"main window shown with the example '{self.window.document.design.name}' "
             f"(platform {self.app.platformName()})")

    def _check_icon(self) -> None:
        icon = self.window.windowIcon()
        if icon.isNull() or icon.pixmap(64, 64).isNull():
            raise SelfTestFailure("the window icon is not set or does not render")
        _say("window icon set")

    def _check_about(self) -> None:
        expected = _read_version()
        text = _about_text(self.app, self.window)
        if "development checkout" in text or expected not in text:
            raise SelfTestFailure(f"Help > About says {text!r}, expected version "
                                  f"{expected}")
        _say(f"Help > About shows version {expected}")

    def _check_bad_files(self) -> None:
        corrupt = self.workdir / "corrupt.bpsproj"
        corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a project")
        missing = self.workdir / "missing.json"
        for path in (corrupt, missing):
            self.window.open_startup_file(path)
            banner = self.window.banner
            if banner.isHidden() or path.name not in banner.text():
                raise SelfTestFailure(f"opening {path.name} at start-up did not show "
                                      f"the error in the window (banner: "
                                      f"{banner.text()!r})")
            if self.window.document.path is not None:
                raise SelfTestFailure(f"after failing to open {path.name} the window "
                                      "did not fall back to the example")
            _say(f"bad startup file {path.name} shown in the window: "
                 f"{banner.text().splitlines()[-1]}")
        if not self.window.open_example(EXAMPLE):
            raise SelfTestFailure(f"the example {EXAMPLE} did not open again")

    def _start_training(self) -> None:
        controller = self.window.training.controller
        controller.batch_received.connect(self._on_batch)
        controller.run_finished.connect(self._on_run_finished)
        controller.run_failed.connect(self._on_run_failed)
        self.stage = "training"
        self.window.training.train()
        if not controller.active:
            raise SelfTestFailure("Train did not start a run: "
                                  f"{self.window.statusBar().currentMessage()!r}")

    @Slot(object)
    def _on_batch(self, batch) -> None:
        self.thread_seen = self.thread_seen or self.window.training.controller.active
        if batch.steps.size:
            if self.steps == 0:
                self.first_loss = float(batch.losses[0])
            self.steps += int(batch.steps.size)
            self.last_step = int(batch.steps[-1])
            self.last_loss = float(batch.losses[-1])
        if batch.weights is not None:
            self.weights = {k: v.copy() for k, v in batch.weights.items()}
        if self.steps >= MIN_STEPS and not self.stop_asked:
            self.stop_asked = True
            self.window.training.stop()

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self._fail(f"the run failed: {message}")

    @Slot(object)
    def _on_run_finished(self, end) -> None:
        if end is None:
            self._fail("the run ended without starting")
            return
        if self.steps < MIN_STEPS:
            self._fail(f"the run ended ({end.reason}: {end.message}) after only "
                       f"{self.steps} steps")
            return
        if not self.thread_seen or self.weights is None:
            self._fail("no progress with weights arrived from the training process")
            return
        _say(f"trained {self.steps} steps in the training process ({end.message}); "
             f"batch loss {self.first_loss:.4g} -> {self.last_loss:.4g}")
        QTimer.singleShot(0, lambda: self._guarded("project round trip",
                                                   self._round_trip))

    def _round_trip(self) -> None:
        import numpy as np

        from core.files.project import Project, load_project, save_project

        window = self.window
        design = window.document.design
        path = self.workdir / "self-test.bpsproj"
        steps = np.array([[self.last_step, self.last_loss]], dtype=np.float64)
        save_project(Project(design, self.weights, [], steps), path)
        if not window.files.open_path(path, ask=False):
            raise SelfTestFailure(f"the window could not open {path}: "
                                  f"{window.files.last_error}")
        if window.document.design != design:
            raise SelfTestFailure("the design opened from the project differs from the "
                                  "saved one")
        if not window.files.save():  # the window's own (atomic) save, same path
            raise SelfTestFailure(f"saving through the window failed: "
                                  f"{window.files.last_error}")
        reopened = load_project(path)
        if reopened.design != design:
            raise SelfTestFailure("the reopened design differs from the saved one")
        got = reopened.weights or {}
        if set(got) != set(self.weights) or not all(
                np.array_equal(got[k], self.weights[k]) for k in self.weights):
            raise SelfTestFailure("the reopened weights differ from the saved ones")
        _say(f"project round trip: saved, opened in the window, saved again and "
             f"reopened {path.name}: design and {len(got)} weight arrays equal")
        self._check_export(path)
        self._check_settings(path)

    def _check_export(self, project: Path) -> None:
        """The ONNX and NumPy exports of the trained project verify (onnx, ONNX Runtime
        and the NumPy script run inside the bundle; PyTorch is never bundled)."""
        from core.export.run import export_model
        from core.export.source import load_source

        source = load_source(project)
        for fmt, target in (("onnx", "self-test.onnx"), ("numpy", "self-test-numpy")):
            result = export_model(source, fmt, self.workdir / target)
            if result.ok is not True:
                raise SelfTestFailure(f"the {fmt} export did not verify: "
                                      f"{result.verification.summary()}")
            _say(f"export: {result.verification.summary()}")
        self._check_sweep()

    def _check_sweep(self) -> None:
        """A two-trial sweep trains in a worker process and its study is read back."""
        import dataclasses

        self.stage = "sweep"
        from core.datasets import DatasetSpec, load_dataset
        from core.files.design_file import load_design
        from core.resources import resource_path
        from core.sweeps.driver import SweepDriver
        from core.sweeps.plan import SweepPlan
        from core.sweeps.space import parse_space
        from core.sweeps.storage import read_status

        design = load_design(resource_path("examples", EXAMPLE))
        design = dataclasses.replace(
            design, training=dataclasses.replace(design.training, epochs=2),
            dataset={**design.dataset, "samples": 100})
        dataset = load_dataset(DatasetSpec.from_dict(design.dataset))
        space = parse_space({"parameters": {"training.learning_rate": {
            "choices": [0.01, 0.1]}}, "sampler": "grid"}, design)
        storage = str(self.workdir / "self-test.sweeps.db")
        driver = SweepDriver(design, dataset, SweepPlan(space, 2, workers=1,
                                                        study_name="self-test",
                                                        storage=storage))
        driver.run()
        states = [row.state for row in read_status(storage, "self-test").trials]
        if states != ["complete", "complete"]:
            raise SelfTestFailure(f"the sweep's trials ended {states}, not complete: "
                                  f"{driver.status().message}")
        _say(f"sweep: 2 trials trained in a worker process, kept in {Path(storage).name}")

    def _check_settings(self, saved: Path) -> None:
        settings = QSettings()
        settings.sync()
        if settings.status() != QSettings.Status.NoError:
            raise SelfTestFailure(f"settings could not be written to "
                                  f"{settings.fileName()} ({settings.status().name})")
        if str(saved.resolve()) not in self.window.files.recent_files():
            raise SelfTestFailure("the saved project is not in the recent-files list")
        where = Path(settings.fileName()).resolve()
        problem = _installation_problem(where)
        if problem:
            raise SelfTestFailure(problem)
        _say(f"settings written to {where}")
        self._pass()

