"""The network diagram: geometry (what is drawn, what is summarised), weight styles,
clicks that select layers, export, and robustness to weights of another network."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QSize, Qt
from PySide6.QtGui import QHelpEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

import core
from core.design.spec import ActivationSpec, BatchNormSpec, DenseSpec, DropoutSpec, ResidualSpec
from core.files.design_file import load_design
from core.resources import resource_path
from gui.diagram.layout import hit_test, path_at, place
from gui.diagram.painting import weight_pen
from gui.diagram.structure import describe
from gui.diagram.weight_style import LEVELS, NEUTRAL, bucket_style, weight_bucket, weight_buckets


def _example(name: str) -> core.Design:
    return load_design(resource_path("examples", name))


def _big() -> core.NetworkSpec:
    return core.NetworkSpec(inputs=784, layers=(
        DenseSpec(units=256), ActivationSpec("relu"), DropoutSpec(0.2), DenseSpec(units=256),
        ActivationSpec("relu"), DenseSpec(units=10), ActivationSpec("softmax")))


def _residual() -> core.NetworkSpec:
    net = _example("xor.json").network
    block = ResidualSpec(layers=(DenseSpec(units=8), ActivationSpec("relu"), DenseSpec(units=4)),
                         projection=True)
    return core.design.edit.insert_layer(net, (4,), block)


# --------------------------------------------------------------------- geometry


def test_small_network_draws_every_neuron_and_connection():
    s = describe(_example("xor.json").network)
    assert [c.units for c in s.columns] == [2, 8, 8, 1]
    assert [len(c.shown) for c in s.columns] == [2, 8, 8, 1]
    assert s.neuron_count() == 19
    assert s.edge_count() == 2 * 8 + 8 * 8 + 8 * 1
    layout = place(s, 700, 400)
    assert sum(len(e.lines) for e in layout.edges) == 88
    assert all(e.band is None for e in layout.edges)
    xs = [c.x for c in layout.columns]
    assert xs == sorted(xs)


def test_wide_network_is_summarised():
    s = describe(_big())
    assert s.neuron_count() < 100
    assert [c.hidden for c in s.columns] == [784 - 12, 256 - 12, 256 - 12, 0]
    assert s.edge_count() < 500
    layout = place(s, 700, 400)
    assert all(p.ellipsis_y is not None for p in layout.columns[:3])
    assert layout.columns[3].ellipsis_y is None
    assert all(e.band is not None for e in layout.edges)
    # Every drawn neuron is inside the widget.
    for p in layout.columns:
        assert 0 < p.x < 700
        assert p.ys.min() > 0 and p.ys.max() < 400


def test_activation_dropout_batchnorm_are_badges_on_their_column():
    s = describe(_big())
    assert [(b.text, b.column, b.order) for b in s.badges] == [
        ("ReLU", 1, 0), ("Dropout 0.2", 1, 1), ("ReLU", 2, 0), ("Softmax", 3, 0)]
    s = describe(core.NetworkSpec(inputs=3, layers=(BatchNormSpec(), DenseSpec(units=2))))
    assert [(b.kind, b.column) for b in s.badges] == [("batchnorm", 0)]


def test_residual_block_spans_its_columns_and_colours_follow_parameter_groups():
    net = _residual()
    s = describe(net)
    assert len(s.blocks) == 1
    b = s.blocks[0]
    assert (b.path, b.first, b.last, b.projection, b.widths_ok) == ((4,), 2, 4, True, True)
    assert [c.weight_name for c in s.columns[1:]] == [
        "layers.0.weight", "layers.2.weight", "layers.4.layers.0.weight",
        "layers.4.layers.2.weight", "layers.5.weight"]
    # Series colours: the i-th parameter group of the runtime network.
    groups = core.build_network(net).group_names
    for col in s.columns[1:]:
        assert groups[col.series] == core.design.edit.runtime_name(col.path)


def test_feature_and_class_names_label_inputs_and_outputs(make):
    w, _, _ = make(_example("xor.json"))
    s = w.structure
    assert s.columns[0].labels == ("x1", "x2")
    assert s.columns[-1].labels == ("P(same sign)",)
    w, _, _ = make(_example("digits.json"))
    assert w.structure.columns[-1].labels == tuple(str(i) for i in range(10))
    assert w.structure.columns[0].labels[0] == "pixel_0_0"


def _intersect(a, b) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def _assert_titles_fit(layout, n_columns: int) -> None:
    rects = [t.rect for t in layout.titles]
    for i, a in enumerate(rects):
        assert a[0] >= 0 and a[0] + a[2] <= layout.width, layout.titles[i]
        for b in rects[i + 1:]:
            assert not _intersect(a, b), (a, b)
    # The first and last columns always keep their titles.
    assert layout.titles[0].column == 0
    assert layout.titles[-1].column == n_columns - 1


@pytest.mark.parametrize(("name", "width", "height"), [
    ("deep_sigmoid.json", 360, 750), ("xor.json", 700, 400), ("deep_sigmoid.json", 250, 400),
    ("deep_sigmoid.json", 700, 400)])
def test_column_titles_never_overlap(name, width, height):
    s = describe(_example(name).network)
    # Pads about as the widget leaves them for input and output names.
    layout = place(s, width, height, 38, 80)
    _assert_titles_fit(layout, len(s.columns))
    if name == "xor.json":  # room enough: every title in full, in one row
        assert [t.text for t in layout.titles] == ["Input 2", "Dense 8", "Dense 8", "Dense 1"]
        assert layout.title_h == layout.titles[0].rect[3]
    if (name, width) == ("deep_sigmoid.json", 360):  # too crowded for one row of titles
        assert {t.row for t in layout.titles} == {0, 1} or len(layout.titles) < 12


def test_crowded_titles_shorten_stagger_then_thin_out():
    net = core.NetworkSpec(inputs=2, layers=tuple(DenseSpec(units=16) for _ in range(40)))
    s = describe(net)
    layout = place(s, 360, 500)
    _assert_titles_fit(layout, 41)
    assert len(layout.titles) < 41  # every other (or fewer) columns titled
    assert all(t.text == "16" for t in layout.titles[1:])
    # A title selects its column even where it reaches past the column's rectangle.
    t = layout.titles[-1]
    x, y, w, h = t.rect
    assert hit_test(s, layout, x + w / 2, y + h / 2) == ("column", t.column)


def test_crowded_badges_are_short_or_one_note_never_cut():
    s = describe(_example("deep_sigmoid.json").network)
    wide = place(s, 900, 520, 38, 80)
    assert set(wide.badge_texts) == {"Sigmoid"} and wide.note is None
    narrow = place(s, 360, 750, 38, 80)
    drawn = [(r, t) for r, t in zip(narrow.badges, narrow.badge_texts, strict=True) if r]
    # Either one short badge per column or one line for all hidden layers.
    assert narrow.note is not None or {t for _, t in drawn} == {"σ"}
    if narrow.note is not None:
        assert narrow.note[0] == "all hidden: Sigmoid"
    for rect, text in drawn:  # wide enough for their text
        assert rect[2] >= 6.5 * len(text)
    rects = [r for r, _ in drawn] + ([narrow.note[1]] if narrow.note else [])
    for i, a in enumerate(rects):
        assert a[0] >= 0 and a[0] + a[2] <= 360
        assert not any(_intersect(a, b) for b in rects[i + 1:])
    # Short texts in one row when they fit but the full ones do not.
    mid = place(s, 410, 400, 38, 80)
    assert set(mid.badge_texts) == {"σ"} and mid.note is None


def test_widget_titles_fit_with_real_fonts(make):
    w, _, _ = make(_example("deep_sigmoid.json"))
    for size in [(360, 750), (700, 400), (250, 300)]:
        layout = w.layout_at(*size)
        _assert_titles_fit(layout, len(w.structure.columns))
        assert "…" not in "".join(layout.badge_texts)
    w.resize(360, 750)
    w.grab()  # paints with the note instead of the hidden layers' badges
    assert w.item_rect((1,)) is None and w.item_rect((20,)) is not None
    w, _, _ = make(_example("xor.json"))
    layout = w.layout_at(700, 400)
    _assert_titles_fit(layout, 4)
    assert [t.text for t in layout.titles] == ["Input 2", "Dense 8", "Dense 8", "Dense 1"]


# ------------------------------------------------------------------------ style


def test_weight_style_sign_and_size():
    strong, weak = weight_bucket(0.9, 1.0), weight_bucket(0.1, 1.0)
    negative = weight_bucket(-0.9, 1.0)
    assert strong > 0 > negative
    assert abs(strong) == abs(negative) == LEVELS
    assert bucket_style(strong)[0] == 1 and bucket_style(negative)[0] == -1
    assert bucket_style(strong)[1] > bucket_style(weak)[1]  # thicker
    assert bucket_style(strong)[2] > bucket_style(weak)[2]  # more opaque
    assert weight_pen(strong).color() != weight_pen(negative).color()
    assert weight_pen(strong).widthF() > weight_pen(weak).widthF()
    assert weight_bucket(1.0, 1.0) == LEVELS  # the layer's largest
    # Nothing to compare against, or not a number: neutral grey.
    assert weight_bucket(0.5, 0.0) == NEUTRAL
    assert list(weight_buckets(np.array([np.nan, np.inf, 0.5]), 1.0)) == [
        NEUTRAL, NEUTRAL, weight_bucket(0.5, 1.0)]


# ------------------------------------------------------------------- the widget


def test_weights_colour_connections_and_bad_weights_are_ignored(make):
    design = _example("xor.json")
    w, _, _ = make(design)
    assert not w.has_weights
    w.set_weights(core.build_network(design.network, seed=0).parameters())
    assert w.has_weights
    w.grab()
    # Weights of another network (an edit during training): ignored, drawn grey.
    other = core.build_network(_big(), seed=0).parameters()
    w.set_weights(other)
    assert not w.has_weights
    w.set_weights({"layers.0.weight": np.zeros((3, 3))})
    assert not w.has_weights
    w.set_weights({})
    assert not w.has_weights
    w.grab()
    nan = {k: np.full_like(v, np.nan) for k, v in
           core.build_network(design.network).parameters().items()}
    w.set_weights(nan)
    w.grab()
    w.set_weights(None)
    assert not w.has_weights


def test_weights_cleared_when_the_network_changes_shape(make):
    design = _example("xor.json")
    w, doc, _ = make(design)
    w.set_weights(core.build_network(design.network, seed=0).parameters())
    training = dataclasses.replace(design.training, learning_rate=0.01)
    doc.set_design(dataclasses.replace(design, training=training), "Learning rate")
    assert w.has_weights  # same shapes: the weights still fit
    net = core.design.edit.replace_layer(design.network, (2,), DenseSpec(units=5))
    doc.set_design(dataclasses.replace(doc.design, network=net), "Units")
    assert not w.has_weights
    assert [c.units for c in w.structure.columns] == [2, 8, 5, 1]


def test_clicking_selects_the_layer(make):
    design = dataclasses.replace(_example("xor.json"), network=_residual())
    w, _, sel = make(design)
    for path in [(2,), (1,), (4,), (4, 1), (5,)]:
        rect = w.item_rect(path)
        assert rect is not None, path
        QTest.mouseClick(w, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
        assert sel.path == path
    # The input column and empty space select nothing new.
    QTest.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert sel.path == (5,)


def test_hit_test_prefers_badges_over_columns():
    s = describe(_example("xor.json").network)
    layout = place(s, 700, 400)
    x, y, bw, bh = layout.badges[0]
    assert path_at(s, hit_test(s, layout, x + bw / 2, y + bh / 2)) == (1,)
    col = layout.columns[1]
    assert path_at(s, hit_test(s, layout, col.x, float(col.ys[0]))) == (0,)


def test_export_png_and_svg(make, tmp_path):
    design = _example("digits.json")
    w, _, _ = make(design)
    w.set_weights(core.build_network(design.network, seed=0).parameters())
    png, svg = tmp_path / "net.png", tmp_path / "net.svg"
    w.save_image(png)
    w.save_image(svg)
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 700
    text = svg.read_text()
    assert "<svg" in text and len(text) > 1000
    img = w.render_image(QSize(320, 200))
    assert (img.width(), img.height()) == (320, 200)
    # Not all background: something was drawn.
    assert len({img.pixel(x, y) for x in range(0, 320, 7) for y in range(0, 200, 7)}) > 3
    with pytest.raises(OSError):
        w.save_image(tmp_path / "missing-dir" / "net.png")


def test_malformed_and_empty_networks_do_not_crash(make):
    design = _example("xor.json")
    w, doc, _ = make(design)
    doc.set_design(dataclasses.replace(design, network=core.NetworkSpec(inputs=2)), "Empty")
    assert [c.units for c in w.structure.columns] == [2]
    w.grab()
    bad = core.NetworkSpec(inputs=2, layers=(DenseSpec(units="many"),))  # type: ignore[arg-type]
    doc.set_design(dataclasses.replace(design, network=bad), "Bad")
    assert w.structure is None
    w.grab()
    w.set_weights(core.build_network(design.network).parameters())  # no exception
    assert not w.has_weights


def test_selection_highlight_and_dataset_free_use(make):
    w, _, sel = make(_example("xor.json"), with_data=False)
    assert w.structure.columns[0].labels == ()
    before = w.grab().toImage()
    sel.select((2,))
    after = w.grab().toImage()
    assert before != after


def test_tooltips_explain_what_is_under_the_mouse(make, monkeypatch):
    shown: list[str] = []
    # The offscreen platform warns when a real tooltip window is raised.
    monkeypatch.setattr(QToolTip, "showText", lambda pos, text, widget=None: shown.append(text))
    design = dataclasses.replace(_example("xor.json"), network=_residual())
    w, _, _ = make(design)
    for path in [(0,), (1,), (4,)]:
        pos = w.item_rect(path).center().toPoint()
        QApplication.sendEvent(w, QHelpEvent(QEvent.Type.ToolTip, pos, w.mapToGlobal(pos)))
        assert "Click to select" in shown[-1]
    assert "Dense 8" in shown[0] and "Residual" in shown[2]


def test_weights_that_draw_the_same_do_not_repaint_but_new_styles_do(make, qtbot):
    # Weights stream in four times a second while training; a repaint of a large
    # network costs the window milliseconds, so only a change of style repaints.
    from PySide6.QtCore import QEvent, QObject

    class Paints(QObject):
        count = 0

        def eventFilter(self, _obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    design = _example("digits.json")  # 64 inputs: no neuron pictures
    w, _, _ = make(design)
    paints = Paints()
    w.installEventFilter(paints)
    weights = core.build_network(design.network, seed=0).parameters()
    w.set_weights(weights)
    qtbot.waitUntil(lambda: paints.count > 0)
    qtbot.wait(50)
    before = paints.count
    # The same styles: every weight scaled alike (styles are relative to the layer's
    # largest), and the very same weights.
    w.set_weights({k: 1.5 * v for k, v in weights.items()})
    w.set_weights(weights)
    qtbot.wait(100)
    assert paints.count == before
    # Flipped signs: new colours, so a repaint.
    w.set_weights({k: -v for k, v in weights.items()})
    qtbot.waitUntil(lambda: paints.count > before)
    w.set_weights(None)  # grey again: a repaint too
    qtbot.waitUntil(lambda: paints.count > before + 1)
    assert not w.has_weights
