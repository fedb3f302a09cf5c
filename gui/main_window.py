"""The main window: composes the panels around one document in two workspaces, with
menus, shortcuts, the title's unsaved-changes marker, remembered layout and recent files.

Build (Ctrl+1): the layer palette and the dataset (or the lessons) on the left, the
network editor and the network diagram in the centre, the inspector, training settings
and the backprop step-through on the right, the network check at the bottom.
Train (Ctrl+2; Train and Step switch to it): the live plots in the centre, the network
diagram, a summary of the design, the training settings and the lessons on the right,
the runs with their comparison at the bottom. Panels are dock widgets, so a user can
rearrange them; each workspace's arrangement is remembered between runs (QSettings,
``gui.workspaces``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core import Design, NetworkSpec, StudioError
from core.datasets import DatasetSpec
from core.export.run import data_inputs
from core.files.design_file import load_design
from core.resources import resource_path
from core.teach.lessons import LESSONS
from gui.diagram.view import NetworkDiagram
from gui.editor.dataset_panel import DatasetPanel
from gui.editor.inspector import LayerInspector
from gui.editor.layer_stack import LayerStackEditor
from gui.editor.palette import LayerPalette
from gui.editor.training_settings import TrainingSettingsPanel
from gui.panels.check import NetworkCheckPanel
from gui.panels.design_summary import DesignSummary
from gui.panels.export_dialog import ExportDialog
from gui.panels.lesson_runner import LessonRunner
from gui.panels.lessons import LessonPanel
from gui.panels.runs import RunsPanel
from gui.panels.stepthrough import StepThroughPanel
from gui.panels.sweep_runner import SweepRunner
from gui.plain_text import plain, verbatim
from gui.project.dataset_state import DatasetState
from gui.project.document import Document, LayerSelection
from gui.project.files import FileActions
from gui.training.ab_dialog import CompareDialog
from gui.training.ab_runner import CompareRunner
from gui.training.controller import IDLE
from gui.training.plots import TrainingPlots
from gui.training.training_ui import TrainingUi
from gui.workspace_layout import (
    compose_build,
    compose_train,
    default_size,
    runs_height,
)
from gui.workspaces import BUILD, TRAIN, Workspace, WorkspaceSwitcher

DEFAULT_EXAMPLE = "xor.json"
# Bump when docks are added or renamed: a layout saved by an older version is ignored
# rather than restored with the new docks in odd places.
LAYOUT_VERSION = 3  # 3: the Build and Train workspaces


def example_paths() -> list[Path]:
    """The shipped example designs, sorted by file name."""
    return sorted(resource_path("examples").glob("*.json"))


def new_design() -> Design:
    """What File > New starts from: an empty network on the circle dataset."""
    return Design(NetworkSpec(inputs=2), dataset=DatasetSpec.synthetic("circle").to_dict(),
                  name="")


class MainWindow(QMainWindow):
    """Backprop Studio's main window."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.document = Document(self)
        self.selection = LayerSelection(self)
        self.dataset_state = DatasetState(self.document, self)
        self.files = FileActions(self.document, self)
        self.autosaver = None  # a gui.project.autosave.AutoSaver once crash recovery is started
        self.resize(default_size(self))
        self._build_panels()
        self.training = TrainingUi(self, self.document, self.dataset_state, self.plots,
                                   self.diagram, self.editor, self.show_banner,
                                   self.show_plots)
        self.compare_runner = CompareRunner(self, self.training, self.runs_panel, self.plots,
                                            self.show_comparison)
        self.compare_dialog: CompareDialog | None = None
        self.lesson_runner = LessonRunner(
            self, self.lessons, self.document, self.files, self.training, self.runs_panel,
            self.statusBar().showMessage, lambda: self.lessons_dock.raise_(),
            self.show_comparison, self._show_stepthrough)
        self.sweeps = SweepRunner(self, lambda: self.show_workspace(TRAIN))
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self.document.pathChanged.connect(self._update_title)
        self.document.designChanged.connect(self._update_title)
        self.files.recentChanged.connect(self._fill_recent_menu)
        self.files.opened.connect(self._on_document_opened)
        self.check_panel.readiness_changed.connect(self._on_readiness_changed)
        self.training.set_readiness(self.check_panel.ready, self.check_panel.reason)
        self._update_title()
        self._restore_layout()
        self.editor.view.setFocus()  # where the work starts (Tab order begins at the palette)

    # ----------------------------------------------------------------- panels
    def _build_panels(self) -> None:
        doc, sel, data = self.document, self.selection, self.dataset_state
        self.banner = plain(QLabel())  # it quotes file names and their content
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setStyleSheet("background:#fdecea; color:#8a1c1c; padding:8px; "
                                  "border:1px solid #f5c6cb; border-radius:4px;")
        self.banner.hide()
        self.editor = LayerStackEditor(doc, sel, data)
        self.diagram = NetworkDiagram(doc, sel, data)
        self.plots = TrainingPlots()
        self.palette = LayerPalette(doc, sel)
        self.dataset_panel = DatasetPanel(doc, data)
        self.inspector = LayerInspector(doc, sel, data)
        self.training_panel = TrainingSettingsPanel(doc)
        self.check_panel = NetworkCheckPanel(doc, sel, data)
        self.stepthrough = StepThroughPanel()
        self.lessons = LessonPanel()
        self.runs_panel = RunsPanel(doc)
        # Train's own view of the design: a summary, and the same settings, editable.
        self.design_summary = DesignSummary(doc, sel, data)
        self.train_settings_panel = TrainingSettingsPanel(doc)
        build, train = Workspace(BUILD), Workspace(TRAIN)
        self._lessons_docks = {BUILD: compose_build(self, build),
                               TRAIN: compose_train(self, train)}
        self.stack = QStackedWidget()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        # The diagram and the lessons are shown in both workspaces: they move along.
        self.workspaces = WorkspaceSwitcher(self, self.stack, {BUILD: build, TRAIN: train},
                                            {"diagram": self.diagram, "lessons": self.lessons})
        self._default_layouts = {k: ws.saveState(LAYOUT_VERSION)
                                 for k, ws in self.workspaces.workspaces.items()}

        self.runs_panel.restore_requested.connect(self._on_restore_requested)
        self.runs_panel.baseline_changed.connect(self.plots.set_baseline)
        self.stepthrough.small_example_requested.connect(
            lambda: self.open_lesson("forward_backward"))  # as the Lessons menu does
        self.stepthrough_dock.visibilityChanged.connect(self._refresh_stepthrough)
        doc.designChanged.connect(self._refresh_stepthrough)
        data.changed.connect(self._refresh_stepthrough)
        # Selecting a layer brings the inspector to the front.
        self.selection.changed.connect(self._on_selection_changed)

    @property
    def lessons_dock(self) -> QDockWidget:
        """The Lessons dock of the shown workspace (the panel moves between them)."""
        return self._lessons_docks[self.workspaces.current]

    @property
    def workspace(self) -> str:
        """The shown workspace: ``"build"`` or ``"train"``."""
        return self.workspaces.current

    def show_workspace(self, key: str) -> None:
        """Show the Build or the Train workspace."""
        self.workspaces.show(key)

    def show_plots(self) -> None:
        """The Train workspace with the live plots in its centre (a run starts)."""
        self.show_workspace(TRAIN)
        self.train_centre.setCurrentWidget(self.plots)

    def _show_train_if_live(self) -> None:
        if self.training.controller.active:
            self.show_workspace(TRAIN)

    # ---------------------------------------------------------------- actions
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        sk = QKeySequence.StandardKey
        self.new_action = self._action("&New", self._on_new, sk.New,
                                       "Start a new, empty network")
        self.open_action = self._action("&Open…", self.files.open_dialog, sk.Open,
                                        "Open a design (.json), project (.bpsproj) or "
                                        "ONNX model (.onnx)")
        self.save_action = self._action("&Save", self.files.save, sk.Save,
                                        "Save the design (atomic: the old file stays intact "
                                        "if saving fails)")
        self.save_as_action = self._action("Save &As…", self.files.save_as, sk.SaveAs,
                                           "Save under a new name: a project (.bpsproj) keeps "
                                           "the runs and weights, a design (.json) the "
                                           "network and settings only")
        self.export_action = self._action("&Export Diagram Image…", self._on_export_diagram,
                                          None, "Save the network diagram as PNG or SVG")
        self.export_model_action = self._action(
            "Export &Model…", self.open_export_dialog, QKeySequence("Ctrl+Shift+E"),
            "Export the network with its trained weights as PyTorch code, ONNX or a "
            "NumPy script, checked against the app's own predictions")
        self.export_model_action.setToolTip(
            f"{self.export_model_action.toolTip()} (Ctrl+Shift+E)")
        self.quit_action = self._action("&Quit", self.close, sk.Quit)
        # One history for the whole project (design edits, runs, weights): the model's,
        # through the document; own actions so a live run can veto an undo that would
        # change the network under it.
        stack = self.document.undo_stack
        self.undo_action = self._action("&Undo", self.document.undo, sk.Undo)
        self.redo_action = self._action("&Redo", self.document.redo, None)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        stack.canUndoChanged.connect(self.undo_action.setEnabled)
        stack.canRedoChanged.connect(self.redo_action.setEnabled)
        stack.undoTextChanged.connect(
            lambda text: self.undo_action.setText(f"&Undo {text}".rstrip()))
        stack.redoTextChanged.connect(
            lambda text: self.redo_action.setText(f"&Redo {text}".rstrip()))
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.reset_layout_action = self._action(
            "Reset &Layout", self.reset_layout, None,
            "Put the shown workspace's panels back where they start")
        self.compare_action = self._action(
            "&Compare Settings…", self.open_compare_dialog, QKeySequence("Ctrl+Shift+T"),
            "Train this design with settings A and B, one run after the other from the "
            "same seed, and overlay the two runs")
        self.compare_action.setToolTip(f"{self.compare_action.toolTip()} (Ctrl+Shift+T)")
        # Train and Step (also when they resume or step a paused run) show the plots.
        for action in (self.training.train_action, self.training.step_action):
            action.triggered.connect(self._show_train_if_live)
        self.training.train_action.changed.connect(self._sync_compare_action)
        self.training.controller.state_changed.connect(self._sync_compare_action)
        self.compare_runner.stage_changed.connect(self._sync_compare_action)
        self._sync_compare_action()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_model_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._fill_recent_menu()

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        for action in (self.editor.delete_action, self.editor.duplicate_action,
                       self.editor.move_up_action, self.editor.move_down_action):
            edit_menu.addAction(action)

        train_menu = bar.addMenu("&Train")
        for action in self.training.actions:
            train_menu.addAction(action)
        train_menu.addSeparator()
        train_menu.addAction(self.compare_action)
        train_menu.addSeparator()
        for action in self.sweeps.actions:
            train_menu.addAction(action)

        lessons_menu = bar.addMenu("&Lessons")
        for i, (key, lesson) in enumerate(LESSONS.items(), start=1):
            action = QAction(f"&{i % 10} {lesson.title}" if i <= 10 else lesson.title, self)
            action.setStatusTip(lesson.claim)
            action.triggered.connect(lambda _checked=False, k=key: self.open_lesson(k))
            lessons_menu.addAction(action)

        examples = bar.addMenu("E&xamples")
        for path in example_paths():
            try:
                title = load_design(path).name or path.stem
            except StudioError:
                continue
            action = QAction(title, self)
            action.setStatusTip(f"Open the example {path.name}")
            action.triggered.connect(
                lambda _checked=False, p=path: self.files.open_path(p, as_copy=True))
            examples.addAction(action)

        self.view_menu = bar.addMenu("&View")
        self.view_menu.aboutToShow.connect(self._fill_view_menu)
        self._fill_view_menu()

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About Backprop Studio", self._on_about))

    def _fill_view_menu(self) -> None:
        """The workspaces, then the shown workspace's panels (to show or hide them)."""
        menu = self.view_menu
        menu.clear()
        for action in self.workspaces.actions.values():
            menu.addAction(action)
        menu.addSeparator()
        for dock in self.workspaces.workspace().docks:
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        menu.addAction(self.reset_layout_action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Training", self)
        bar.setObjectName("training_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # The workspaces as tabs, left of the run's actions (Ctrl+1, Ctrl+2 switch too).
        self.workspace_tabs = tabs = QTabBar()
        tabs.setObjectName("workspace_tabs")
        tabs.setDrawBase(False)
        tabs.setExpanding(False)
        tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Ctrl+1/Ctrl+2 are the keys
        for action in self.workspaces.actions.values():
            i = tabs.addTab(action.text().replace("&", ""))
            tabs.setTabToolTip(i, action.toolTip())
        keys = list(self.workspaces.actions)
        tabs.setCurrentIndex(keys.index(self.workspaces.current))
        tabs.currentChanged.connect(lambda i: self.show_workspace(keys[i]))
        self.workspaces.changed.connect(lambda key: tabs.setCurrentIndex(keys.index(key)))
        bar.addWidget(tabs)
        bar.addSeparator()
        for action in self.training.actions:
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.compare_action)
        bar.addAction(self.sweeps.sweep_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.training_toolbar = bar

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.files.recent_files()
        for i, f in enumerate(files):
            action = QAction(f"&{i + 1} {Path(f).name}", self)
            action.setStatusTip(f)
            action.triggered.connect(lambda _checked=False, p=f: self.files.open_path(p))
            self.recent_menu.addAction(action)
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(self._action("Clear Menu", self.files.clear_recent))
        self.recent_menu.setEnabled(bool(files))

    # ---------------------------------------------------------------- opening
    def open_example(self, name: str = DEFAULT_EXAMPLE) -> bool:
        """Open a shipped example as an untitled copy."""
        return self.files.open_path(resource_path("examples", name), ask=False, as_copy=True)

    def open_path(self, path: str | Path) -> bool:
        """Open a file (asks about unsaved changes first)."""
        return self.files.open_path(path)

    def open_startup_file(self, path: str | Path) -> None:
        """Open the file named on the command line; if it cannot be opened, open the
        example instead and show why in the window (no modal box before the window)."""
        from gui.project.files import read_document

        try:
            read_document(path)
        except StudioError as exc:
            self.open_example()
            self.show_banner(f"Could not open {path}:\n{exc}")
            return
        self.files.open_path(path, ask=False)

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        if text:
            self.statusBar().showMessage(text.splitlines()[0], 15000)

    def _on_document_opened(self) -> None:
        project = self.document.model.project()  # the runs panel follows the model itself
        if not self.training.controller.active:
            self.training.reset()  # the plots and diagram weights were the old design's
            self.training.show_saved(project)  # a project's run, as it was saved
        self.selection.select(None)
        self.show_banner("")
        self.statusBar().showMessage(f"Opened {self.document.display_name}", 5000)

    def open_lesson(self, key: str) -> bool:
        """Load lesson ``key``'s first variant and show the lesson."""
        return self.lesson_runner.open_lesson(key)

    def _on_restore_requested(self, record) -> None:
        """Put a recorded run's design and settings back into the editor (undoable)."""
        self.document.set_design(record.design, f"Restore design of {record.name}")
        self.statusBar().showMessage(f"Restored the design of {record.name} (Ctrl+Z undoes "
                                     "it)", 8000)

    # ---------------------------------------------------------------- compare
    def open_compare_dialog(self) -> CompareDialog | None:
        """Show the Compare settings dialog (window-modal, not blocking); Run in it starts
        the comparison. Returns the dialog, or None if no run can start now."""
        if not self.compare_action.isEnabled():
            return None
        dialog = CompareDialog(self.document.design, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_compare_accepted(dialog))
        dialog.destroyed.connect(self._on_compare_dialog_destroyed)
        self.compare_dialog = dialog
        dialog.open()
        return dialog

    def _on_compare_accepted(self, dialog: CompareDialog) -> None:
        variant = dialog.variant()
        if variant is not None:
            self.compare_runner.start(dialog.design_a, variant)

    def _on_compare_dialog_destroyed(self, *_args) -> None:
        self.compare_dialog = None

    def _sync_compare_action(self, *_args) -> None:
        # Only from idle (Train is enabled then exactly when the design can be trained).
        idle = self.training.controller.state == IDLE and not self.compare_runner.active
        ok = idle and self.training.train_action.isEnabled()
        self.compare_action.setEnabled(ok)

    def _show_stepthrough(self) -> None:
        """The step-through lives in Build: show it there."""
        self.show_workspace(BUILD)
        self.stepthrough_dock.raise_()

    def show_comparison(self) -> None:
        """The Train workspace with the Runs panel in view: the table and the selected
        runs' overlaid curves and design differences side by side, the panel as tall as
        the comparison needs (when docked), scrolled to it if it still does not fit."""
        self.show_workspace(TRAIN)
        self.runs_dock.show()
        self.runs_dock.raise_()
        want = min(runs_height(self), self.height() // 2)
        if not self.runs_dock.isFloating() and self.runs_dock.height() < want:
            self.workspaces.workspace(TRAIN).resizeDocks([self.runs_dock], [want],
                                                         Qt.Orientation.Vertical)
        # After the dock's new size is laid out: the comparison's top (its legend names
        # the runs' colours) in view.
        QTimer.singleShot(0, self._scroll_runs_to_comparison)

    def _scroll_runs_to_comparison(self) -> None:
        top = self.runs_panel.compare.mapTo(self.runs_panel, QPoint(0, 0)).y()
        self.runs_scroll.verticalScrollBar().setValue(top)

    def _refresh_stepthrough(self, *_args) -> None:
        # Only while visible: building the walk-through costs a forward and backward pass.
        if self.stepthrough_dock.isVisible() and not self.stepthrough.visibleRegion().isEmpty():
            self.stepthrough.set_design(self.document.design, self.dataset_state.dataset)

    def _on_new(self) -> None:
        self.files.new(new_design())

    # ------------------------------------------------------------------ misc
    def _update_title(self) -> None:
        doc = self.document
        self.setWindowTitle(f"{doc.display_name}[*] — Backprop Studio")
        self.setWindowModified(doc.modified)

    def _on_selection_changed(self) -> None:
        if self.selection.path is not None:
            self.inspector_dock.raise_()

    def _on_readiness_changed(self, ready: bool, reason: str) -> None:
        self.training.set_readiness(ready, reason, announce=True)

    def _on_export_diagram(self) -> None:
        stem = self.document.path.stem if self.document.path else "network"
        path, _ = QFileDialog.getSaveFileName(self, "Export diagram", f"{stem}.png",
                                              "PNG image (*.png);;SVG image (*.svg)")
        if not path:
            return
        try:
            self.diagram.save_image(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Could not export",
                                verbatim(f"Could not write {path}: {exc}"))
            return
        self.statusBar().showMessage(f"Diagram saved to {path}", 5000)

    def open_export_dialog(self) -> ExportDialog:
        """File > Export Model…: the design with the latest run's weights (a live run's
        as they stand), verified on the loaded dataset's validation inputs."""
        doc = self.document
        weights = doc.snapshot().weights  # None when they do not fit the design any more
        why = ("The design has changed since it was trained: its trained weights no longer "
               "fit it. Train it again, or export its initial weights."
               if weights is None and doc.model.latest is not None else "")
        data = self.dataset_state.dataset
        if data is not None:
            x, words = data_inputs(data, doc.design)
        else:
            x, words = None, self.dataset_state.error or "no dataset is loaded"
        dialog = ExportDialog(doc.design, weights, doc.path, x, words, self, why)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.resize(680, min(640, max(480, self.height() - 60)))
        dialog.open()
        return dialog

    def _on_about(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("backprop-studio")
        except PackageNotFoundError:
            v = "(development checkout)"
        QMessageBox.about(self, "About Backprop Studio",
                          f"<b>Backprop Studio</b> {v}<br>Point-and-click experiments with "
                          "neural networks: watch backpropagation work.")

    # ----------------------------------------------------------- persistence
    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        state = settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)
        for ws in self.workspaces.workspaces.values():
            ws.restore_layout(settings, LAYOUT_VERSION)
        shown = settings.value("window/workspace", BUILD)
        if shown in self.workspaces.workspaces:
            self.show_workspace(shown)

    def reset_layout(self) -> None:
        """Put the shown workspace's docks back in their first arrangement."""
        ws = self.workspaces.workspace()
        ws.restoreState(self._default_layouts[ws.key], LAYOUT_VERSION)
        for dock in ws.docks:
            if dock.isFloating():
                dock.setFloating(False)
        ws.apply_default_sizes()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        # A sweep ends first, so its last finished trials are in the project the
        # question below offers to save (its running ones are retried on Resume).
        self.sweeps.close()
        if not self.files.maybe_save():
            event.ignore()
            return
        # Stop a live run cooperatively and wait for its thread before Qt tears down;
        # a comparison must not start its next run meanwhile.
        self.compare_runner.cancel()
        self.training.shutdown()
        if self.autosaver is not None:  # a normal close: the recovery copy goes
            self.autosaver.close()
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        settings.setValue("window/workspace", self.workspaces.current)
        for ws in self.workspaces.workspaces.values():
            ws.save_layout(settings, LAYOUT_VERSION)
        event.accept()
