"""Where each panel goes in the Build and Train workspaces, and the docks' first sizes
(fractions of the workspace, applied when it is first shown; a remembered layout wins).

The functions set the window's attributes for the panels' docks (``window.runs_dock``,
...), which the window and its tests use. No pyqtgraph here.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from gui.workspaces import ScrollPanel, Workspace

DEFAULT_SIZE = QSize(1400, 860)  # at most; less on a smaller screen (a 1366x768 laptop)


def default_size(window: QWidget) -> QSize:
    """The first size of the window: ``DEFAULT_SIZE``, or less to fit the screen's
    available area (a 1366x768 laptop gets about 1290x680)."""
    screen = window.screen()
    if screen is None:
        return DEFAULT_SIZE
    room = screen.availableGeometry().size()
    return QSize(max(800, min(DEFAULT_SIZE.width(), room.width() * 95 // 100)),
                 max(560, min(DEFAULT_SIZE.height(), room.height() * 92 // 100)))


def compose_build(window, ws: Workspace) -> QDockWidget:
    """Build: the palette and the dataset (or the lessons) left, the editor and the
    diagram in the centre, the inspector, training settings and the step-through
    right, the network check below. Returns its Lessons dock."""
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    window.centre_split = split = ws.splitter("centre_split", Qt.Orientation.Horizontal)
    split.addWidget(window.editor)
    split.addWidget(ws.slot("diagram"))
    split.setStretchFactor(0, 0)
    split.setStretchFactor(1, 1)
    split.setSizes([300, 500])
    ws.setCentralWidget(split)
    window.palette_dock = ws.dock("Layers", window.palette, left, "palette_dock")
    window.dataset_dock = ws.dock("Dataset", ScrollPanel(window.dataset_panel), left,
                                  "dataset_dock")
    lessons = ws.dock("Lessons", ScrollPanel(ws.slot("lessons")), left, "lessons_dock")
    ws.tabifyDockWidget(window.dataset_dock, lessons)
    window.dataset_dock.raise_()
    window.inspector_dock = ws.dock("Inspector", window.inspector, right, "inspector_dock")
    window.training_dock = ws.dock("Training settings", window.training_panel, right,
                                   "training_dock")
    window.stepthrough_dock = ws.dock("Backprop steps",
                                      ScrollPanel(window.stepthrough, horizontal=True), right,
                                      "stepthrough_dock")
    ws.tabifyDockWidget(window.inspector_dock, window.training_dock)
    ws.tabifyDockWidget(window.inspector_dock, window.stepthrough_dock)
    window.inspector_dock.raise_()
    window.check_dock = ws.dock("Network check", window.check_panel,
                                Qt.DockWidgetArea.BottomDockWidgetArea, "check_dock")
    # Tab goes left to right: the palette, then the editor, then the panels.
    QWidget.setTabOrder(window.palette.view, window.editor.view)
    ws.default_sizes = lambda w: size_build(window, w)
    return lessons  # the panel moves into it when Build is shown


def compose_train(window, ws: Workspace) -> QDockWidget:
    """Train: the live plots in the centre (with a sweep's views on a second page
    once a sweep has run), the diagram right above the design summary, the training
    settings and the lessons; the runs with their comparison below. Returns its Lessons
    dock."""
    right, bottom = (Qt.DockWidgetArea.RightDockWidgetArea,
                     Qt.DockWidgetArea.BottomDockWidgetArea)
    # Pages of the centre: the tab bar shows only once there are two (a sweep's views
    # are added when the first sweep starts).
    window.train_centre = centre = QTabWidget()
    centre.setObjectName("train_centre")
    centre.setDocumentMode(True)
    centre.setTabBarAutoHide(True)
    centre.addTab(window.plots, "Live plots")
    centre.setTabToolTip(0, "The run that trains now: loss, gradients and the model")
    ws.setCentralWidget(centre)
    window.diagram_dock = ws.dock("Network diagram", ws.slot("diagram"), right,
                                  "diagram_dock")
    window.summary_dock = ws.dock("Design", window.design_summary, right, "summary_dock")
    window.train_settings_dock = ws.dock("Training settings", window.train_settings_panel,
                                         right, "train_settings_dock")
    lessons = ws.dock("Lessons", ScrollPanel(ws.slot("lessons")), right, "lessons_dock")
    ws.splitDockWidget(window.diagram_dock, window.summary_dock, Qt.Orientation.Vertical)
    ws.tabifyDockWidget(window.summary_dock, window.train_settings_dock)
    ws.tabifyDockWidget(window.summary_dock, lessons)
    window.summary_dock.raise_()
    # The comparison plots must not force the window taller: they scroll if squeezed.
    window.runs_scroll = ScrollPanel(window.runs_panel, horizontal=True)
    window.runs_dock = ws.dock("Runs", window.runs_scroll, bottom, "runs_dock")
    # Its title along its left edge: the height goes to the comparison (a 1280x720
    # window shows it whole).
    window.runs_dock.setFeatures(window.runs_dock.features()
                                 | QDockWidget.DockWidgetFeature.DockWidgetVerticalTitleBar)
    ws.default_sizes = lambda w: size_train(window, w)
    return lessons


def size_build(window, ws: Workspace) -> None:
    """Build's first sizes: the side columns a fifth and a quarter of the width, the
    network check as short as it can be, the editor as wide as its cards."""
    w, h = ws.width(), ws.height()
    ws.resizeDocks([window.palette_dock, window.inspector_dock],
                   [max(230, w // 5), max(300, w * 27 // 100)], Qt.Orientation.Horizontal)
    ws.resizeDocks([window.palette_dock, window.dataset_dock], [h // 3, h],
                   Qt.Orientation.Vertical)
    ws.resizeDocks([window.check_dock], [window.check_dock.minimumSizeHint().height()],
                   Qt.Orientation.Vertical)
    # The editor as wide as its cards need, the diagram the rest.
    editor = window.editor.minimumSizeHint().width() + 8
    window.centre_split.setSizes([editor, max(1, window.centre_split.width() - editor)])


def size_train(window, ws: Workspace) -> None:
    """Train's first sizes: the diagram's column 30 % of the width (the diagram 3/5 of
    its height), the runs 40 % of
    the height (at least room for the comparison), the plots the rest."""
    w, h = ws.width(), ws.height()
    ws.resizeDocks([window.diagram_dock], [max(320, w * 3 // 10)], Qt.Orientation.Horizontal)
    # The diagram (live weights, neuron pictures) gets more of the column than the summary.
    ws.resizeDocks([window.diagram_dock, window.summary_dock], [3 * h, 2 * h],
                   Qt.Orientation.Vertical)
    ws.resizeDocks([window.runs_dock], [max(runs_height(window), h * 2 // 5)],
                   Qt.Orientation.Vertical)


def runs_height(window) -> int:
    """The Runs dock's height at which the runs panel (its comparison) needs no
    scrolling: the panel's minimum plus the dock's title and the scroll area's frame."""
    scroll = window.runs_scroll
    chrome = (window.runs_dock.minimumSizeHint().height() - scroll.minimumSizeHint().height()
              + 2 * scroll.frameWidth())
    return window.runs_panel.minimumSizeHint().height() + chrome
