"""Pure geometry of the network diagram: which columns, neurons, badges and skip arcs a
network has, where they go in a given pixel size, and how a weight maps to a line style.

No Qt here, so the rules (which layers are summarised, how many connections are drawn,
how a weight's sign and size become a style bucket) are unit-tested without a display.
``describe`` turns a ``NetworkSpec`` into a ``Structure`` (recomputed on design
changes); ``place`` turns a structure into a ``Layout`` for one widget size (recomputed
on resize); ``weight_buckets`` turns the drawn part of a weight matrix into style
buckets (recomputed on every ``set_weights``).

Text that must fit (column titles, badges) is measured by callables the widget passes
(its font metrics); without them a rough per-character estimate is used. Titles and
badges are laid out so they never overlap: long forms when there is room, then short
forms ("16" for "Dense 16", "σ" for "Sigmoid"), then two staggered rows, and finally
fewer titles or a single "all hidden: …" note instead of one badge per column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.design.edit import LayerPath, input_features, runtime_name
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
)

FULL_LIMIT = 16  # columns up to this many neurons are drawn whole
HEAD = 6  # a wider column draws its first HEAD and last TAIL neurons around an ellipsis
TAIL = 6
LEVELS = 6  # line-style buckets per weight sign
NEUTRAL = 0  # bucket of a connection without a weight (grey)

Rect = tuple[float, float, float, float]  # x, y, width, height
Measure = Callable[[str], float]  # the width in pixels of a text

# Short badge texts, for columns too close together for the full ones.
SHORT_ACTIVATIONS = {
    "sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LReLU", "elu": "ELU",
    "gelu": "GELU", "softplus": "soft+", "linear": "lin", "softmax": "smax",
}


@dataclass(frozen=True)
class Column:
    """One column of neurons: the inputs (``path`` None) or a Dense layer's units."""

    path: LayerPath | None
    title: str
    units: int
    shown: tuple[int, ...]  # indices of the neurons drawn, ascending
    series: int | None = None  # colour index (``gui.colors.series_color``); None: inputs
    weight_name: str | None = None  # ``layers.0.weight``: (previous units, units)
    labels: tuple[str, ...] = ()  # one per shown neuron, or empty

    @property
    def hidden(self) -> int:
        """How many neurons the ellipsis stands for."""
        return self.units - len(self.shown)


@dataclass(frozen=True)
class Badge:
    """A layer without neurons of its own (activation, dropout, batch norm), shown under
    the column whose values it transforms; ``order`` stacks several under one column."""

    path: LayerPath
    column: int
    kind: str
    text: str
    order: int
    short: str = ""  # a shorter text for crowded diagrams ("σ" for "Sigmoid")


@dataclass(frozen=True)
class Block:
    """A residual block: its skip connection goes from column ``first`` (the block's
    input) to column ``last`` (its output). ``level`` 0 is the innermost arc."""

    path: LayerPath
    first: int
    last: int
    level: int
    projection: bool  # a learned projection carries the skip (widths differ)
    widths_ok: bool  # False: widths differ without a projection (the check reports it)


@dataclass(frozen=True)
class Structure:
    """What the diagram shows of one network, independent of size."""

    columns: tuple[Column, ...]
    badges: tuple[Badge, ...] = ()
    blocks: tuple[Block, ...] = ()

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """The shape ``set_weights`` must supply for each drawn weight matrix."""
        out = {}
        for prev, col in zip(self.columns, self.columns[1:], strict=False):
            if col.weight_name:
                out[col.weight_name] = (prev.units, col.units)
        return out

    def edge_count(self) -> int:
        """Connections drawn (between shown neurons of consecutive columns)."""
        return sum(len(a.shown) * len(b.shown)
                   for a, b in zip(self.columns, self.columns[1:], strict=False))

    def neuron_count(self) -> int:
        return sum(len(c.shown) for c in self.columns)


def short_text(layer: LayerSpec) -> str:
    """The short form of a badge's text (``Badge.short``)."""
    if isinstance(layer, ActivationSpec):
        fn = layer.function
        return SHORT_ACTIVATIONS.get(fn, layer.summary()) if isinstance(fn, str) else "?"
    if isinstance(layer, DropoutSpec):
        return "Drop"
    if isinstance(layer, BatchNormSpec):
        return "BN"
    return layer.summary()[:4]


def shown_indices(units: int) -> tuple[int, ...]:
    """The neurons drawn for a column of ``units``: all, or the first and last few."""
    if units <= FULL_LIMIT:
        return tuple(range(units))
    return tuple(range(HEAD)) + tuple(range(units - TAIL, units))


def _labels(names: Sequence[str] | None, units: int, shown: tuple[int, ...]) -> tuple[str, ...]:
    if not names or len(names) != units:
        return ()
    return tuple(str(names[i]) for i in shown)


def output_names(class_names: Sequence[str], task: str | None, outputs: int,
                 target_names: Sequence[str] = ()) -> tuple[str, ...]:
    """Names for the output neurons: one per class, ``P(class 1)`` for a single sigmoid
    output of a two-class problem, or the regression targets' names."""
    if task == "classification" and class_names:
        if len(class_names) == outputs:
            return tuple(class_names)
        if outputs == 1 and len(class_names) == 2:
            return (f"P({class_names[1]})",)
        return ()
    if task == "regression" and len(target_names) == outputs:
        return tuple(target_names)
    return ()


def describe(net: NetworkSpec, feature_names: Sequence[str] | None = None,
             output_labels: Sequence[str] | None = None) -> Structure:
    """The columns, badges and residual arcs of ``net``.

    ``feature_names`` label the input neurons and ``output_labels`` the last Dense
    layer's, each only when its length matches the column.
    """
    units = int(net.inputs)
    shown = shown_indices(units)
    columns: list[Column] = [Column(None, f"Input {units}", units, shown,
                                    labels=_labels(feature_names, units, shown))]
    badges: list[Badge] = []
    blocks: list[Block] = []
    stacked: dict[int, int] = {}
    series = 0

    def has_params(path: LayerPath, layer: LayerSpec) -> bool:
        return layer.parameter_count(input_features(net, path)) > 0

    def walk(layers: tuple[LayerSpec, ...], prefix: LayerPath) -> int:
        """Add the layers' columns; return the height of the deepest arc inside."""
        nonlocal series
        height = 0
        for i, layer in enumerate(layers):
            path = prefix + (i,)
            # Colours follow the runtime's parameter groups (``Network.group_names``):
            # a residual block owns a group only through its projection, before its
            # children.
            if isinstance(layer, ResidualSpec):
                owns = bool(layer.projection) and (
                    layer.output_features(input_features(net, path))
                    != input_features(net, path))
            else:
                owns = has_params(path, layer)
            colour = series if owns else None
            if owns:
                series += 1
            if isinstance(layer, DenseSpec):
                n = int(layer.units)
                s = shown_indices(n)
                columns.append(Column(path, f"Dense {n}", n, s, colour,
                                      runtime_name(path) + ".weight"))
            elif isinstance(layer, ResidualSpec):
                first = len(columns) - 1
                inner = walk(layer.layers, path)
                last = len(columns) - 1
                n_in = input_features(net, path)
                n_out = layer.output_features(n_in)
                proj = bool(layer.projection) and n_out != n_in
                blocks.append(Block(path, first, last, inner, proj, n_out == n_in or proj))
                height = max(height, inner + 1)
            else:
                col = len(columns) - 1
                order = stacked.get(col, 0)
                stacked[col] = order + 1
                badges.append(Badge(path, col, layer.kind, layer.summary(), order,
                                    short_text(layer)))
        return height

    walk(net.layers, ())
    if output_labels and len(columns) > 1:
        last = columns[-1]
        columns[-1] = Column(last.path, last.title, last.units, last.shown, last.series,
                             last.weight_name, _labels(output_labels, last.units, last.shown))
    return Structure(tuple(columns), tuple(badges), tuple(blocks))


# ------------------------------------------------------------------------ placement


@dataclass
class ColumnPlace:
    """Where one column is drawn."""

    x: float
    ys: np.ndarray  # (len(shown),) neuron centres
    ellipsis_y: float | None  # centre of the "⋮ n more" text, if summarised
    top: float  # extent of the neurons (for bands and highlights)
    bottom: float
    rect: Rect  # the clickable/highlighted area, title included


@dataclass(frozen=True)
class Title:
    """A column's title: ``text`` is the full title ("Dense 16") or, when columns are
    crowded, the unit count alone; ``row`` 1 is the lower of two staggered rows."""

    column: int
    text: str
    rect: Rect
    row: int


@dataclass
class EdgeBlock:
    """The drawn connections into column ``column`` from the column before it, in
    source-major order (the order of ``W[np.ix_(src.shown, dst.shown)].ravel()``)."""

    column: int
    lines: np.ndarray  # (n, 4) x1, y1, x2, y2
    band: tuple[float, ...] | None  # polygon x1,y1, x2,y2, x3,y3, x4,y4 behind a summary


@dataclass
class Layout:
    """Pixel positions of a ``Structure`` in a ``width`` x ``height`` area."""

    width: float
    height: float
    radius: float
    spacing: float  # between column centres
    title_y: float  # top of the column titles
    title_h: float  # height of all title rows
    columns: list[ColumnPlace]
    edges: list[EdgeBlock]
    # Parallel to structure.badges: where each is drawn (None: summarised by ``note``)
    # and its text (full or short).
    badges: list[Rect | None]
    arcs: list[tuple[float, float, float]]  # parallel to blocks: x_from, x_to, y_top
    arc_h: float
    legend_y: float
    titles: list[Title] = field(default_factory=list)  # the columns whose title is drawn
    badge_texts: list[str] = field(default_factory=list)
    note: tuple[str, Rect] | None = None  # "all hidden: Sigmoid" instead of their badges


TITLE_H = 18.0
ARC_H = 24.0
BADGE_H = 17.0
BADGE_GAP = 3.0
LEGEND_H = 16.0
MARGIN = 8.0
MAX_SLOT = 44.0
MAX_SPACING = 240.0
EDGE = 2.0  # text keeps this far from the widget's sides
TITLE_GAP = 6.0  # between two titles in one row
BADGE_SPACE = 4.0  # between two badges in one row
BADGE_PAD = 12.0  # badge width beyond its text; short texts get SHORT_PAD
SHORT_PAD = 8.0


def estimate_title(text: str) -> float:
    """A rough width of a title (bold, about 9 pt) when no font metrics are given."""
    return 8.0 * len(text)


def estimate_badge(text: str) -> float:
    """A rough width of a badge's text (about 8 pt) when no font metrics are given."""
    return 6.5 * len(text)


def place(s: Structure, width: float, height: float, left_pad: float = 0.0,
          right_pad: float = 0.0, title_width: Measure | None = None,
          badge_width: Measure | None = None) -> Layout:
    """Positions for ``s`` in ``width`` x ``height`` pixels, leaving ``left_pad`` for the
    input labels and ``right_pad`` for the output labels. ``title_width`` and
    ``badge_width`` measure a column title's and a badge's text (default: estimates);
    they decide which titles and badge texts fit without overlapping (``_titles``,
    ``_badges``)."""
    title_width = title_width or estimate_title
    badge_width = badge_width or estimate_badge
    n_cols = len(s.columns)
    levels = 1 + max((b.level for b in s.blocks), default=-1)
    x0 = MARGIN + left_pad
    x1 = width - MARGIN - right_pad
    if n_cols > 1:
        spacing = min((x1 - x0) / (n_cols - 1), MAX_SPACING)
    else:
        spacing = min(x1 - x0, MAX_SPACING)
    spacing = max(spacing, 1.0)
    used = spacing * (n_cols - 1)
    start = x0 + max((x1 - x0) - used, 0.0) / 2  # centre a narrow network
    xs = [start + i * spacing for i in range(n_cols)]

    title_spans, title_rows = _titles(s, xs, width, title_width)
    badge_plan = _badges(s, xs, spacing, width, badge_width)
    title_h = title_rows * TITLE_H
    top = MARGIN + levels * ARC_H + title_h + 4
    bottom = height - MARGIN - LEGEND_H - badge_plan.stack * (BADGE_H + BADGE_GAP) - 4
    area_h = max(bottom - top, 20.0)
    title_y = top - title_h - 2

    slots = max(len(c.shown) + (1 if c.hidden else 0) for c in s.columns)
    slot = min(area_h / max(slots, 1), MAX_SLOT)
    radius = float(np.clip(min(slot * 0.36, spacing * 0.16), 2.0, 13.0))
    mid = top + area_h / 2

    places: list[ColumnPlace] = []
    for i, c in enumerate(s.columns):
        x = xs[i]
        n_slots = len(c.shown) + (1 if c.hidden else 0)
        first = mid - (n_slots - 1) * slot / 2
        pos = np.arange(n_slots, dtype=float) * slot + first
        ell = None
        if c.hidden:
            k = HEAD if len(c.shown) > HEAD else len(c.shown) // 2
            ell = float(pos[k])
            pos = np.delete(pos, k)
        ctop = float(first) - radius
        cbot = float(first + (n_slots - 1) * slot) + radius
        half = max(min(spacing / 2 - 2, 60.0), radius + 4)
        rect = (x - half, title_y, 2 * half, cbot - title_y + 4)
        places.append(ColumnPlace(x, pos, ell, ctop, cbot, rect))

    titles = [Title(i, text, (left, title_y + row * TITLE_H, w, TITLE_H), row)
              for i, text, left, w, row in title_spans]

    edges: list[EdgeBlock] = []
    for j in range(1, n_cols):
        a, b = places[j - 1], places[j]
        src, dst = s.columns[j - 1], s.columns[j]
        n = len(src.shown) * len(dst.shown)
        lines = np.empty((n, 4))
        lines[:, 0] = a.x + radius
        lines[:, 1] = np.repeat(a.ys, len(dst.shown))
        lines[:, 2] = b.x - radius
        lines[:, 3] = np.tile(b.ys, len(src.shown))
        band = None
        if src.hidden or dst.hidden:
            band = (a.x, a.top, b.x, b.top, b.x, b.bottom, a.x, a.bottom)
        edges.append(EdgeBlock(j, lines, band))

    badge_rects: list[Rect | None] = []
    for bd, span in zip(s.badges, badge_plan.spans, strict=True):
        if span is None:
            badge_rects.append(None)
            continue
        left, w, row = span
        y = places[bd.column].bottom + 6 + row * (BADGE_H + BADGE_GAP)
        badge_rects.append((left, y, w, BADGE_H))
    note = None
    if badge_plan.note is not None:
        text, left, w, cols = badge_plan.note
        y = max(places[c].bottom for c in cols) + 6
        note = (text, (left, y, w, BADGE_H))

    arcs = []
    for bl in s.blocks:
        y = title_y - 2 - (bl.level + 1) * ARC_H + 6
        xa = places[bl.first].x
        xb = places[bl.last].x
        if bl.first == bl.last:  # a block without Dense layers: a loop on one column
            xa, xb = xa - spacing * 0.3, xb + spacing * 0.3
        arcs.append((xa, xb, y))

    legend_y = height - MARGIN - LEGEND_H
    return Layout(width, height, radius, spacing, title_y, title_h, places, edges,
                  badge_rects, arcs, ARC_H, legend_y, titles, badge_plan.texts, note)


# A title: column, text, left, width, row.
_Span = tuple[int, str, float, float, int]


def _title_plans(n: int) -> Iterator[tuple[int, int, bool, bool]]:
    """Ways to lay out ``n`` titles, best first: (every k-th column, rows, outer columns'
    titles in full, all titles in full)."""
    yield 1, 1, True, True
    for k in range(1, max(n - 1, 1) + 1):
        for rows in (1, 2):
            yield k, rows, True, False
            yield k, rows, False, False


def _titled_columns(n: int, k: int) -> list[int]:
    """Every ``k``-th column's index, always with the first and last."""
    if n <= 2 or k == 1:
        return list(range(n))
    return [i for i in range(0, n - 1, k) if i == 0 or n - 1 - i >= k] + [n - 1]


def _titles(s: Structure, xs: list[float], width: float,
            measure: Measure) -> tuple[list[_Span], int]:
    """The titles drawn and the number of title rows: the first plan of ``_title_plans``
    whose titles stay inside the widget and do not overlap. The outer titles may move
    outwards (they keep covering their column's centre) to clear their neighbours."""
    n = len(s.columns)
    full = [measure(c.title) for c in s.columns]
    short = [measure(str(c.units)) for c in s.columns]
    room = max(width - 2 * EDGE, 1.0)
    spans: list[_Span] = []
    rows = 1
    for k, rows, ends_full, all_full in _title_plans(n):
        spans = []
        for j, i in enumerate(_titled_columns(n, k)):
            long = all_full or (ends_full and i in (0, n - 1))
            text = s.columns[i].title if long else str(s.columns[i].units)
            w = min(full[i] if long else short[i], room)
            left = min(max(xs[i] - w / 2, EDGE), width - EDGE - w)
            spans.append((i, text, left, w, j % rows))
        _push_outwards(spans, xs, rows, width, TITLE_GAP)
        if _no_overlap(spans, rows, TITLE_GAP):
            break
    return spans, rows


def _push_outwards(spans: list[_Span], xs: list[float], rows: int, width: float,
                   gap: float) -> None:
    """Move the first title left and the last right, as far as needed to clear the next
    title in their row, while they stay in the widget and over their column's centre."""
    if len(spans) <= rows:
        return
    i, text, left, w, row = spans[0]
    clash = left + w + gap - spans[rows][2]
    if clash > 0:
        new = max(left - clash, EDGE, xs[i] + 3 - w)
        spans[0] = (i, text, min(new, left), w, row)
    i, text, left, w, row = spans[-1]
    prev = spans[-1 - rows]
    clash = prev[2] + prev[3] + gap - left
    if clash > 0:
        new = min(left + clash, width - EDGE - w, xs[i] - 3)
        spans[-1] = (i, text, max(new, left), w, row)


def _no_overlap(spans: Sequence[tuple], rows: int, gap: float) -> bool:
    """Whether spans (…, left, width, row) of each row, in order of x, keep ``gap``."""
    for r in range(rows):
        in_row = sorted((sp[-3], sp[-2]) for sp in spans if sp[-1] == r)
        for (la, wa), (lb, _) in zip(in_row, in_row[1:], strict=False):
            if la + wa + gap > lb + 1e-9:
                return False
    return True


@dataclass
class _BadgePlan:
    spans: list[tuple[float, float, int] | None]  # per badge: left, width, row
    texts: list[str]
    stack: int  # badge rows below the lowest column
    note: tuple[str, float, float, list[int]] | None = None  # text, left, width, columns


def _badges(s: Structure, xs: list[float], spacing: float, width: float,
            measure: Measure) -> _BadgePlan:
    """Badge texts and positions, the first that fits of: full texts in one row, full
    texts with every other column's badges a row lower, short texts in one row, one
    "all hidden: …" note when every hidden layer has the same badges, short texts in two
    rows; failing all, short texts in two rows cut to fit."""
    if not s.badges:
        return _BadgePlan([], [], 0)
    per_column: dict[int, int] = {}
    for bd in s.badges:
        per_column[bd.column] = max(per_column.get(bd.column, 0), bd.order + 1)
    rows = max(per_column.values())
    can_stagger = len(per_column) > 1

    def attempt(short: bool, stagger: bool, cap: float | None = None) -> _BadgePlan:
        spans: list[tuple[float, float, int] | None] = []
        texts = []
        for bd in s.badges:
            text = (bd.short or bd.text) if short else bd.text
            w = max(measure(text) + (SHORT_PAD if short else BADGE_PAD), BADGE_H)
            if cap is not None:
                w = max(min(w, cap), min(BADGE_H, cap))
            w = min(w, width - 2 * EDGE)
            x = xs[bd.column]
            left = min(max(x - w / 2, EDGE), width - EDGE - w)
            row = (rows if stagger and bd.column % 2 else 0) + bd.order
            spans.append((left, w, row))
            texts.append(text)
        stack = max(sp[2] for sp in spans if sp is not None) + 1
        return _BadgePlan(spans, texts, stack)

    def fits(plan: _BadgePlan) -> bool:
        placed = [sp for sp in plan.spans if sp is not None]
        return _no_overlap(placed, plan.stack, BADGE_SPACE)

    for short, stagger in ((False, False), (False, True), (True, False)):
        if stagger and not can_stagger:
            continue
        plan = attempt(short, stagger)
        if fits(plan):
            return plan
    plan = _badge_note(s, xs, spacing, width, measure)
    if plan is not None and fits(plan):
        return plan
    plan = attempt(True, can_stagger)
    if fits(plan):
        return plan
    return attempt(True, can_stagger, max((2 if can_stagger else 1) * spacing - BADGE_SPACE,
                                          1.0))


def _badge_note(s: Structure, xs: list[float], spacing: float, width: float,
                measure: Measure) -> _BadgePlan | None:
    """One note under the hidden columns when all have the same badges (and there are
    at least two), short badges on the first and last columns; None if it does not
    apply."""
    n = len(s.columns)
    hidden = list(range(1, n - 1))
    if len(hidden) < 2:
        return None
    texts_of: dict[int, list[str]] = {}
    for bd in sorted(s.badges, key=lambda b: (b.column, b.order)):
        texts_of.setdefault(bd.column, []).append(bd.text)
    first = texts_of.get(hidden[0])
    if not first or any(texts_of.get(c) != first for c in hidden):
        return None
    note = "all hidden: " + " + ".join(first)
    lo = xs[hidden[0]] - spacing / 2 + BADGE_SPACE / 2
    hi = xs[hidden[-1]] + spacing / 2 - BADGE_SPACE / 2
    note_w = min(max(measure(note) + BADGE_PAD, hi - lo), width - 2 * EDGE)
    note_left = min(max((lo + hi) / 2 - note_w / 2, EDGE), width - EDGE - note_w)
    for short in (False, True):  # the outer columns' badges: full texts if they fit
        spans: list[tuple[float, float, int] | None] = []
        texts = []
        for bd in s.badges:
            if bd.column in hidden:
                spans.append(None)
                texts.append(bd.text)
                continue
            text = (bd.short or bd.text) if short else bd.text
            w = min(max(measure(text) + (SHORT_PAD if short else BADGE_PAD), BADGE_H),
                    width - 2 * EDGE)
            # Outer badges may extend outwards, past their half of the column gap.
            x = xs[bd.column]
            if bd.column == 0:
                left = max(min(x - w / 2, x + spacing / 2 - BADGE_SPACE / 2 - w), EDGE)
            else:
                left = min(max(x - w / 2, x - spacing / 2 + BADGE_SPACE / 2),
                           width - EDGE - w)
            spans.append((left, w, bd.order))
            texts.append(text)
        stack = max([sp[2] + 1 for sp in spans if sp is not None] + [1])
        # The note shares row 0 with the outer badges: check it against them too.
        placed = [sp for sp in spans if sp is not None] + [(note_left, note_w, 0)]
        if _no_overlap(placed, stack, BADGE_SPACE):
            return _BadgePlan(spans, texts, stack, (note, note_left, note_w, hidden))
    return None


def hit_test(s: Structure, layout: Layout, x: float, y: float) -> tuple[str, int] | None:
    """What is at (x, y): ``("badge", i)``, ``("block", i)``, ``("column", i)`` (its
    neurons or its title) or None. Badges and arcs lie on top of columns, so they win."""

    def inside(r: Rect) -> bool:
        return r[0] <= x <= r[0] + r[2] and r[1] <= y <= r[1] + r[3]

    for i, r in enumerate(layout.badges):
        if r is not None and inside(r):
            return ("badge", i)
    for i, (xa, xb, ya) in enumerate(layout.arcs):
        if inside((xa - 4, ya - 4, xb - xa + 8, layout.arc_h)):
            return ("block", i)
    for title in layout.titles:  # a title may reach past its column's rectangle
        if inside(title.rect):
            return ("column", title.column)
    for i, p in enumerate(layout.columns):
        if inside(p.rect):
            return ("column", i)
    return None


def path_at(s: Structure, hit: tuple[str, int] | None) -> LayerPath | None:
    """The layer path of a ``hit_test`` result (None for the inputs or empty space)."""
    if hit is None:
        return None
    what, i = hit
    if what == "badge":
        return s.badges[i].path
    if what == "block":
        return s.blocks[i].path
    return s.columns[i].path


# ---------------------------------------------------------------------------- style


def weight_buckets(w: np.ndarray, max_abs: float) -> np.ndarray:
    """Style bucket of each weight: ``1..LEVELS`` positive, ``-1..-LEVELS`` negative,
    larger magnitude = larger |bucket|, relative to ``max_abs`` (the layer's largest
    |w|). Non-finite weights and a zero ``max_abs`` give ``NEUTRAL``."""
    w = np.asarray(w, dtype=np.float64)
    if not np.isfinite(max_abs) or max_abs <= 0:
        return np.zeros(w.shape, dtype=np.int8)
    finite = np.isfinite(w)
    rel = np.abs(np.where(finite, w, 0.0)) / max_abs
    level = np.minimum((rel * LEVELS).astype(np.int64), LEVELS - 1) + 1
    out = np.where(w < 0, -level, level)
    out[~finite] = NEUTRAL
    return out.astype(np.int8)


def weight_bucket(w: float, max_abs: float) -> int:
    """``weight_buckets`` for one weight."""
    return int(weight_buckets(np.array([w]), max_abs)[0])


def bucket_style(bucket: int) -> tuple[int, float, int]:
    """``(sign, width in px, alpha 0-255)`` of a bucket; sign 0 means neutral grey."""
    if bucket == NEUTRAL:
        return 0, 0.8, 110
    level = abs(bucket)
    frac = level / LEVELS
    # Convex curves: most initial weights are mid-sized, and only the large ones should
    # stand out.
    return (1 if bucket > 0 else -1), 0.4 + 3.0 * frac ** 2, int(30 + 225 * frac ** 1.5)


def layer_max_abs(w: np.ndarray) -> float:
    """The largest finite |w| of a weight matrix (0 if none)."""
    a = np.abs(np.asarray(w))
    finite = a[np.isfinite(a)]
    return float(finite.max()) if finite.size else 0.0
