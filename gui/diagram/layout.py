"""Where the network diagram's parts go in a given pixel size: column and neuron
positions, the drawn connections, titles, badges, residual arcs and the legend line, and
what lies under a point (``hit_test``).

No Qt here, so the rules are unit-tested without a display. ``place`` turns a
``Structure`` (``gui.diagram.structure``) into a ``Layout`` for one widget size
(recomputed on resize). A column that is a stack of feature maps gets its squares
(the largest image the largest square, the others in proportion to their height) and
its caption ("16 @ 13×13") beneath; a band joins it to its neighbours.

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

from core.design.edit import LayerPath
from gui.diagram.structure import HEAD, Maps, Structure

Rect = tuple[float, float, float, float]  # x, y, width, height
Measure = Callable[[str], float]  # the width in pixels of a text


@dataclass(frozen=True)
class MapsPlace:
    """Where a stack of feature maps is drawn: ``squares`` back to front (the front one,
    lowest and leftmost, last) and the ``caption`` beneath them."""

    squares: tuple[Rect, ...]
    caption: Rect


@dataclass
class ColumnPlace:
    """Where one column is drawn."""

    x: float
    ys: np.ndarray  # (len(shown),) neuron centres
    ellipsis_y: float | None  # centre of the "⋮ n more" text, if summarised
    top: float  # extent of the neurons or maps (for bands and highlights)
    bottom: float
    rect: Rect  # the clickable/highlighted area, title included
    maps: MapsPlace | None = None

    @property
    def foot(self) -> float:
        """The lowest drawn point of the column (its caption, if any): badges go below."""
        if self.maps is not None:
            return self.maps.caption[1] + self.maps.caption[3]
        return self.bottom


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
    stop: Rect | None = None  # the box right of the last column for ``Structure.stop``


TITLE_H = 18.0
ARC_H = 24.0
BADGE_H = 17.0
BADGE_GAP = 3.0
LEGEND_H = 16.0
MARGIN = 8.0
MAX_SLOT = 44.0
MAX_RADIUS = 13.0
# Neurons showing their output over the input plane are squares that need more room.
BIG_SLOT = 58.0
BIG_RADIUS = 24.0
MAX_SPACING = 240.0
EDGE = 2.0  # text keeps this far from the widget's sides
TITLE_GAP = 6.0  # between two titles in one row
BADGE_SPACE = 4.0  # between two badges in one row
BADGE_PAD = 12.0  # badge width beyond its text; short texts get SHORT_PAD
SHORT_PAD = 8.0
CAPTION_H = 15.0  # the "16 @ 13×13" line under a stack of maps
MAX_MAP = 84.0  # the largest map's side
MIN_MAP = 10.0
MAP_STEP = 5.0  # offset between two maps of a stack (at most)
STOP_W = 210.0  # the widest box for a layer that cannot take its input
STOP_GAP = 16.0


def estimate_title(text: str) -> float:
    """A rough width of a title (bold, about 9 pt) when no font metrics are given."""
    return 8.0 * len(text)


def estimate_badge(text: str) -> float:
    """A rough width of a badge's text (about 8 pt) when no font metrics are given."""
    return 6.5 * len(text)


def place(s: Structure, width: float, height: float, left_pad: float = 0.0,
          right_pad: float = 0.0, title_width: Measure | None = None,
          badge_width: Measure | None = None, big: bool = False) -> Layout:
    """Positions for ``s`` in ``width`` x ``height`` pixels, leaving ``left_pad`` for the
    input labels and ``right_pad`` for the output labels; ``big``: larger neurons (up
    to ``BIG_RADIUS``), for pictures drawn on them. ``title_width`` and
    ``badge_width`` measure a column title's and a badge's text (default: estimates);
    they decide which titles and badge texts fit without overlapping (``_titles``,
    ``_badges``)."""
    title_width = title_width or estimate_title
    badge_width = badge_width or estimate_badge
    n_cols = len(s.columns)
    levels = 1 + max((b.level for b in s.blocks), default=-1)
    # The stop note (a layer that cannot take its input) gets a box on the right, wide
    # enough for a few words a line; the columns share the rest.
    stop_w = float(np.clip(width * 0.4, 110.0, STOP_W)) if s.stop is not None else 0.0
    right_edge = width - MARGIN - (stop_w + STOP_GAP if stop_w else 0.0)
    x0 = MARGIN + left_pad
    x1 = right_edge - right_pad
    spacing = _spacing(x0, x1, n_cols)
    # Stacks of maps at either end are as wide as a share of the spacing: keep them in.
    first_maps = s.columns[0].maps is not None
    last_maps = n_cols > 1 and s.columns[-1].maps is not None
    if first_maps or last_maps:
        half = _stack_half_bound(s, spacing) + 2
        if first_maps:
            x0 = MARGIN + max(left_pad, half)
        if last_maps:
            x1 = right_edge - max(right_pad, half)
        spacing = _spacing(x0, x1, n_cols)
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

    slots = max((len(c.shown) + (1 if c.hidden else 0) for c in s.columns
                 if c.maps is None), default=1)
    if big:
        slot = min(area_h / max(slots, 1), BIG_SLOT)
        radius = float(np.clip(min(slot * 0.42, spacing * 0.2), 2.0, BIG_RADIUS))
    else:
        slot = min(area_h / max(slots, 1), MAX_SLOT)
        radius = float(np.clip(min(slot * 0.36, spacing * 0.16), 2.0, MAX_RADIUS))
    mid = top + area_h / 2

    map_side = _map_side(s, spacing, area_h)
    biggest = max((max(c.maps.height, c.maps.width) for c in s.columns if c.maps), default=1)
    places: list[ColumnPlace] = []
    for i, c in enumerate(s.columns):
        x = xs[i]
        if c.maps is not None:
            places.append(_stack_place(c.maps, x, mid, map_side, biggest, spacing, title_y))
            continue
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
        if src.hidden or dst.hidden or src.maps or dst.maps:
            band = (a.x, a.top, b.x, b.top, b.x, b.bottom, a.x, a.bottom)
        edges.append(EdgeBlock(j, lines, band))

    badge_rects: list[Rect | None] = []
    for bd, span in zip(s.badges, badge_plan.spans, strict=True):
        if span is None:
            badge_rects.append(None)
            continue
        left, w, row = span
        y = places[bd.column].foot + 6 + row * (BADGE_H + BADGE_GAP)
        badge_rects.append((left, y, w, BADGE_H))
    note = None
    if badge_plan.note is not None:
        text, left, w, cols = badge_plan.note
        y = max(places[c].foot for c in cols) + 6
        note = (text, (left, y, w, BADGE_H))

    arcs = []
    for bl in s.blocks:
        y = title_y - 2 - (bl.level + 1) * ARC_H + 6
        xa = places[bl.first].x
        xb = places[bl.last].x
        if bl.first == bl.last:  # a block without Dense layers: a loop on one column
            xa, xb = xa - spacing * 0.3, xb + spacing * 0.3
        arcs.append((xa, xb, y))

    stop = None
    if s.stop is not None:
        # Tall enough for its title and the reason wrapped in the box (the words of a
        # line rarely fill it: a third more lines than the width alone needs).
        lines = np.ceil(badge_width(s.stop.why) * 1.35 / max(stop_w - 12, 1.0))
        h = min(area_h, 30.0 + BADGE_H * (lines + 1))
        stop = (width - MARGIN - stop_w, mid - h / 2, stop_w, h)
    legend_y = height - MARGIN - LEGEND_H
    return Layout(width, height, radius, spacing, title_y, title_h, places, edges,
                  badge_rects, arcs, ARC_H, legend_y, titles, badge_plan.texts, note, stop)


def _spacing(x0: float, x1: float, n_cols: int) -> float:
    """The distance between column centres for ``n_cols`` columns from ``x0`` to ``x1``."""
    spacing = min((x1 - x0) / (n_cols - 1), MAX_SPACING) if n_cols > 1 else min(
        x1 - x0, MAX_SPACING)
    return max(spacing, 1.0)


def _stack_half_bound(s: Structure, spacing: float) -> float:
    """At most half the width of any stack of maps with columns ``spacing`` apart (the
    stacks only shrink when the spacing does)."""
    depth = max((c.maps.drawn for c in s.columns if c.maps), default=1) - 1
    return min(spacing * 0.62, MAX_MAP + depth * _map_step(spacing)) / 2


def _map_side(s: Structure, spacing: float, area_h: float) -> float:
    """The side of the largest map: as large as the column spacing and the height
    (minus the stack's offsets and the caption) allow, up to ``MAX_MAP``."""
    stacks = [c.maps for c in s.columns if c.maps is not None]
    if not stacks:
        return 0.0
    depth = max(m.drawn for m in stacks) - 1
    step = _map_step(spacing)
    room_h = area_h - CAPTION_H - 4 - depth * step
    room_w = spacing * 0.62 - depth * step
    return float(np.clip(min(room_h, room_w, MAX_MAP), MIN_MAP, MAX_MAP))


def _map_step(spacing: float) -> float:
    return float(np.clip(spacing * 0.05, 2.0, MAP_STEP))


def _stack_place(m: Maps, x: float, mid: float, largest: float, biggest: int,
                 spacing: float, title_y: float) -> ColumnPlace:
    """The squares of the maps ``m`` centred on (``x``, ``mid``) and their caption: the
    side of ``largest`` pixels stands for ``biggest`` pixels of an image, so maps keep
    their sizes relative to each other (at least ``MIN_MAP``)."""
    side_h = max(largest * m.height / biggest, MIN_MAP)
    side_w = max(largest * m.width / biggest, MIN_MAP)
    step = _map_step(spacing)
    depth = m.drawn - 1
    full_w, full_h = side_w + depth * step, side_h + depth * step
    left, top = x - full_w / 2, mid - (full_h + CAPTION_H + 2) / 2
    # Back maps up and to the right, the front one (first channel) lowest and leftmost.
    squares = tuple((left + k * step, top + k * step, side_w, side_h)
                    for k in range(depth, -1, -1))
    bottom = top + full_h
    half = max(min(spacing / 2 - 2, 60.0), full_w / 2 + 4)
    caption = (x - half, bottom + 2, 2 * half, CAPTION_H)
    foot = caption[1] + caption[3]
    rect = (x - half, title_y, 2 * half, foot - title_y + 4)
    return ColumnPlace(x, np.empty(0), None, top, bottom, rect,
                       MapsPlace(squares, caption))


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
    short = [measure(c.short_title) for c in s.columns]
    room = max(width - 2 * EDGE, 1.0)
    spans: list[_Span] = []
    rows = 1
    for k, rows, ends_full, all_full in _title_plans(n):
        spans = []
        for j, i in enumerate(_titled_columns(n, k)):
            long = all_full or (ends_full and i in (0, n - 1))
            text = s.columns[i].title if long else s.columns[i].short_title
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
    """What is at (x, y): ``("badge", i)``, ``("stop", 0)`` (the layer that cannot take
    its input), ``("block", i)``, ``("column", i)`` (its neurons or its title) or None.
    Badges and arcs lie on top of columns, so they win."""

    def inside(r: Rect) -> bool:
        return r[0] <= x <= r[0] + r[2] and r[1] <= y <= r[1] + r[3]

    for i, r in enumerate(layout.badges):
        if r is not None and inside(r):
            return ("badge", i)
    if layout.stop is not None and inside(layout.stop):
        return ("stop", 0)
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
    if what == "stop":
        return s.stop.path if s.stop is not None else None
    if what == "block":
        return s.blocks[i].path
    return s.columns[i].path
