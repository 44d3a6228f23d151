"""AttentionPanel: where a transformer's heads look when it predicts the character at the cursor.

Left, "at the cursor": one row per (layer, head), one column per earlier character the
cursor's query can see (the model's context); the colour is the attention weight (each row
sums to 1). The row labels give each head's entropy in bits: 0 = it looks at one character,
log2(k) = evenly at all k. Right, "pattern": for the chosen layer, each head's whole
query x key matrix over the last characters up to the cursor (lower triangle: a position
never looks ahead). Clicking a row or a pattern chooses that head: the lab then colours the
editor's text by its weights.

Both views are hand-painted (LivePlot): their repaint joins the window's, the weights are
coloured into kept RGB32 buffers (the pattern only from its first changed query row: typing
at the end adds a row) and blitted. A key repaints the strip's plot area (its image blitted
up to the query), the pattern's new row, query line and label band (the heads' labels one
glyph run from kept glyph places) and the entropy labels as one kept image; every picture
is what drawing it all again gives.

A transformer has no gates; this panel takes the gates panel's place for one, and the
entropies are its honest stand-in for "what does this layer keep?".
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.sequence_parts import AttentionView
from explorer.ui.sequence.common import ACCENT, GATE_MAP, MUTED, SELECT, char_label, set_tip
from explorer.ui.sequence.glyphs import on_screen
from explorer.ui.sequence.live_axis import SlotTicks
from explorer.ui.sequence.painted_image import BACKGROUND, LivePlot, RowLabels, colour, colour_rgb, colour_table
from explorer.ui.widgets.painted_plot import TICK, PaintedPlot, nice_ticks

GAP = 0.35          # blank rows between two layers' heads in the strip
LEVELS = (0.0, 1.0)
EMPTY = "put the cursor after a character"
VIEW_TIP = ("Attention at the cursor (left) and the chosen layer's query × key patterns "
            "(right).\nClick a row or a pattern: colour the text by that head. "
            "'How to read this' explains more.")

HELP = ("<h3>Attention — how to read this</h3>"
        "<p>A transformer reads the text all at once: at every position each <b>head</b> forms a "
        "<i>query</i> and compares it with the <i>keys</i> of all earlier positions (never later "
        "ones: the mask is causal). A softmax turns the scores into <b>weights</b> that sum to 1, "
        "and the head passes on the weighted mix of those positions' <i>values</i>. There is no "
        "state carried from step to step, so there are no gates: a head can reach any earlier "
        "character inside the context at the same cost — and none beyond it.</p>"
        "<p><b>At the cursor</b> (left): the prediction at the cursor is read at the character "
        "just before it. One row per layer and head, one column per earlier character "
        "(newest at the right, the orange line); dark = weight 0, yellow = weight 1. The label "
        "gives the head's <b>entropy</b> in bits: 0 means it looks at one character only, "
        "log₂(k) that it spreads evenly over all k.</p>"
        "<p><b>Pattern</b> (right): for the chosen layer, each head's whole matrix for the "
        "last characters up to the cursor: row = the position reading (query), column = the "
        "position read (key). Only the lower triangle can be non-zero. A bright diagonal is a "
        "head looking at the current character; a line just below it, at the previous one; "
        "vertical stripes, a head that keeps looking back at one place (a quote, a bracket).</p>"
        "<p><b>Click</b> a row or a pattern to colour the editor's text by that head's "
        "weights at the cursor (blue, stronger = more weight; scaled to the largest weight).</p>")


def colour_weights(values: np.ndarray) -> np.ndarray:
    """``colour(values, *LEVELS, colour_table(GATE_MAP))`` for attention weights, in fewer numpy
    calls (two are made per key): the same float32 arithmetic, clipping and table index, so the
    same pixels; NaN white."""
    table = colour_table(GATE_MAP)
    n = len(table)
    work = np.subtract(values, np.float32(LEVELS[0]), dtype=np.float32)
    work *= np.float32(n / ((LEVELS[1] - LEVELS[0]) or 1.0))
    np.minimum(np.maximum(work, 0, out=work), n - 1, out=work)      # (np.clip, without its wrappers)
    if np.isnan(work).any():
        return colour(values, *LEVELS, table)
    return table.take(work.astype(np.uint8))


def _image(pixels: np.ndarray) -> QtGui.QImage:
    """A QImage sharing ``pixels`` (rows, width) uint32: colouring them in place is what it shows."""
    return QtGui.QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0],
                        QtGui.QImage.Format.Format_RGB32)


class EntropyLabels(RowLabels):
    """The strip's row labels, each a part fixed for the model ("L1 H1 · ") and a part that
    changes on every key (the head's entropy, "2.7 b"), which ends at the labels' right edge.
    The fixed parts are drawn once into a kept layer (white; they move only with the layout or
    a wider number), the changing ones over it as kept pictures: each is its text drawn on white
    at the same sub-pixel x and baseline rounding, from its line's top to a pixel below its ink
    (when rows are at least 12 px apart, more than that, so no box covers another label's ink;
    closer rows are drawn as text). On a key no label is laid out or drawn as text: the layer's
    pixels and the pictures' are copied into one kept image (opaque pixels: a copy is what
    drawing them gives) and that image is the paint, one blit. Drawing the two parts where the
    whole label's text puts them gives the same pixels as the whole label."""

    KEPT_PIXMAPS = True      # False: the changing parts drawn as text (what the pixmaps must equal)

    def __init__(self, plot: PaintedPlot) -> None:
        super().__init__(plot)
        self.parts: list[tuple[float, str, str]] = []            # (row y, fixed part, changing part)
        self._rows: list[tuple[str, str, float, float]] = []     # (fixed, changing, changing's width, height)
        self._advances: dict[str, float] = {}                     # a fixed part's advance (its trailing space too)
        self._sizes: dict[str, tuple[float, float]] = {}          # a label part's laid-out width and height
        self._layer: tuple[tuple, QtGui.QPixmap, np.ndarray] | None = None    # (key, layer, its pixels)
        self._inked: dict[tuple, tuple[int, int, QtGui.QPixmap, np.ndarray]] = {}   # see _ink
        self._ascent: float | None = None                          # the tick font's
        self._layout = 0                                           # counts changes of the rows' places, fixed parts
        self._shape: list[tuple[float, str, float]] = []           # (row y, fixed part, height): what _layout counts
        self._every_row_changes = False                            # every row has a changing part
        self._place: tuple[tuple, list[tuple[int, float]], bool] | None = None     # see _placed
        self._layer_of: tuple[tuple, np.ndarray] | None = None     # (geometry, widths): the layer's pixels
        self._canvas: tuple[QtGui.QImage, np.ndarray] | None = None   # the kept image a paint blits
        self._composed: tuple | None = None                        # what the canvas holds
        # (geometry, the visible rows' whole-pixel tops and baseline roundings, per (changing part,
        # rounding) its kept picture and columns: see _picture)
        self._pasted: tuple[tuple, list[tuple[int, int]], dict[tuple[str, int], tuple[int, int, int, np.ndarray]]] \
            = ((), [], {})

    def set_parts(self, parts: list[tuple[float, str, str]]) -> None:
        """Rows' labels as (y, fixed, changing): each shows fixed + changing (fixed not empty)."""
        if parts == self.parts:
            return
        self.parts, self.ticks = parts, [(v, a + b) for v, a, b in parts]
        self._rows = rows = []
        widest = 0.0
        sizes, advances = self._sizes, self._advances        # (looked up without a call when kept)
        for _, a, b in parts:
            wa, h = sizes.get(a) or self._size(a)
            if b:
                wb = (sizes.get(b) or self._size(b))[0]
                w = (advances.get(a) or self._advance(a)) + wb
            else:
                wb, w = 0.0, wa
            rows.append((a, b, wb, h))
            if w > widest:
                widest = w
        shape = [(v, a, h) for (v, a, _), (_, _, _, h) in zip(parts, rows, strict=True)]
        if shape != self._shape:
            self._shape, self._layout = shape, self._layout + 1
        self._every_row_changes = all(b for _, _, b in parts)
        width = int(np.ceil(widest)) + 4
        if width > self.width() or width < self.width() - 12:     # (as RowLabels.set: not for every pixel)
            self.setFixedWidth(width)
        self.update()

    def set(self, ticks: list[tuple[float, str]]) -> None:
        self.set_parts([(v, s, "") for v, s in ticks])

    def _size(self, text: str) -> tuple[float, float]:
        hit = self._sizes.get(text)
        if hit is None:
            _, w, h = self.plot.texts.get(text, self.plot.tick_font)
            if len(self._sizes) > 4096:
                self._sizes.clear()
            hit = self._sizes[text] = (w, h)
        return hit

    def _advance(self, fixed: str) -> float:
        hit = self._advances.get(fixed)
        if hit is None:
            hit = self._advances[fixed] = QtGui.QFontMetricsF(self.plot.tick_font).horizontalAdvance(fixed)
        return hit

    def _up(self) -> float:
        """The fraction of the tick font's ascent (where a label's baseline rounds)."""
        if self._ascent is None:
            self._ascent = QtGui.QFontMetricsF(self.plot.tick_font).ascent()
        return self._ascent - math.floor(self._ascent)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self._advances.clear()
            self._sizes.clear()
            self._inked.clear()
            self._ascent = None
            self._layer = self._composed = self._layer_of = self._place = None
            self._pasted = ((), [], {})
        super().changeEvent(ev)

    def _placed(self) -> tuple[tuple, list[tuple[int, float]], bool]:
        """Kept per geometry (the plot's area and range, where this widget sits, its size, the
        rows' places and fixed parts, the colour): that key, the rows inside the plot as (row,
        top y), and whether each of those has a changing part at least 12 px below the one
        before (then no picture's box covers another label's ink: the kept image's case)."""
        plot = self.plot
        r = plot.data_rect()
        key = (r.getRect(), plot.y_range(), getattr(plot, "y_inverted", None), plot.y() - self.y(),
               self.width(), self.height(), self._layout, plot.fg.rgba())
        if self._place is None or self._place[0] != key:
            lo, hi = r.top() - 0.5, r.bottom() + 0.5
            ys = plot.px_y(np.array([v for v, _, _ in self.parts], float)).tolist() if self.parts else []
            visible = [(i, y + key[3] - h / 2) for i, ((_, _, _, h), y) in enumerate(zip(self._rows, ys, strict=True))
                       if lo <= y <= hi]
            kept = bool(visible) and self._every_row_changes and all(
                b - a >= 12 for (_, a), (_, b) in zip(visible, visible[1:]))
            self._place = (key, visible, kept)
        return self._place

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        if not on_screen(p):                     # an export (SVG, PDF): every label as text
            p.end()
            super().paintEvent(ev)
            return
        placed = self._placed()
        if placed[2] and self.KEPT_PIXMAPS and self.devicePixelRatioF() == 1.0:
            p.drawImage(0, 0, self._compose(placed))
            p.end()
            return
        # rows too close for boxes, device pixels or no changing parts: the changing parts as text
        plot = self.plot
        fixed, changing = self._parts_at(placed[1])
        p.drawPixmap(0, 0, self._fixed_layer(fixed)[0])
        p.setFont(plot.tick_font)
        p.setPen(plot.fg)
        for text, x, y in changing:
            p.drawStaticText(QtCore.QPointF(x, y), plot.texts.get(text, plot.tick_font)[0])
        p.end()

    def _parts_at(self, visible: list[tuple[int, float]]
                  ) -> tuple[list[tuple[str, float, float]], list[tuple[str, float, float]]]:
        """The fixed and the changing parts of these rows as (text, x, top y): each label ends
        at the right edge, its fixed part where the whole label's text puts it."""
        right = self.width() - 2.0
        fixed: list[tuple[str, float, float]] = []
        changing: list[tuple[str, float, float]] = []
        for i, top in visible:
            a, b, wb, _ = self._rows[i]
            if b:                                # (widths are in 64ths of a pixel: these sums are exact)
                at = right - wb
                fixed.append((a, at - self._advance(a), top))
                changing.append((b, at, top))
            else:
                fixed.append((a, right - self._size(a)[0], top))
        return fixed, changing

    def _compose(self, placed: tuple[tuple, list[tuple[int, float]], bool]) -> QtGui.QImage:
        """The kept image: the fixed parts' layer with each changing part's picture copied over
        it where drawing that picture would put it (in the same order). A key copies the layer
        and one kept picture per row, placed by the row's whole-pixel top (kept per geometry)."""
        key, visible, _ = placed
        rows = self._rows
        widths = tuple(rows[i][2] for i, _ in visible)       # (the fixed parts move with these)
        texts = tuple(rows[i][1] for i, _ in visible)
        if self._layer_of is None or self._layer_of[0] != (key, widths) or self._layer is None:
            fixed, _ = self._parts_at(visible)
            self._layer_of = ((key, widths), self._fixed_layer(fixed)[1])
        base = self._layer_of[1]
        h, w = base.shape
        if self._canvas is None or self._canvas[1].shape != (h, w):
            pixels = np.empty((h, w), np.uint32)
            self._canvas, self._composed = (_image(pixels), pixels), None
        image, canvas = self._canvas
        shown = (key, widths, texts)                          # (the layer is the geometry's and widths')
        if shown == self._composed:
            return image
        canvas[:] = base
        if self._pasted[0] != key or len(self._pasted[2]) > 4096:
            up = self._up()                              # each row's top: whole pixel, baseline rounding
            self._pasted = (key, [(math.floor(top), math.floor(top - math.floor(top) + up + 0.5))
                                  for _, top in visible], {})
        _, rows_at, pictures = self._pasted
        right, rgba = self.width() - 2.0, key[-1]
        for (i, top), (fy, k), text in zip(visible, rows_at, texts, strict=True):
            hit = pictures.get((text, k))                # (the same for every row: x depends on the text)
            if hit is None:
                hit = pictures[(text, k)] = self._picture(text, right - rows[i][2], k, rgba, w)
            x0, x1, cy, src = hit
            y0 = fy + cy
            if y0 >= 0 and y0 + src.shape[0] <= h:
                canvas[y0:y0 + src.shape[0], x0:x1] = src
            else:                                        # (partly outside: clipped, as a blit is)
                a, b, c, d, part = self._paste((text, right - rows[i][2], top), rgba, h, w)
                if part is not None:
                    canvas[a:b, c:d] = part
        self._composed = shown
        return image

    def _picture(self, text: str, x: float, k: int, rgba: int, w: int) -> tuple[int, int, int, np.ndarray]:
        """The kept picture of a changing part at x for a row whose baseline rounds to k: its
        columns x0..x1 inside an image w wide, its top relative to the row's whole-pixel top and
        its pixels in those columns (clipped, as a blit is)."""
        fx = math.floor(x)
        hit = self._inked.get((text, x - fx, k, rgba))
        if hit is None:
            hit = self._ink(text, x - fx, k, self._up())
        x0 = fx + hit[0]
        c, d = max(x0, 0), min(x0 + hit[3].shape[1], w)
        return c, max(c, d), hit[1], hit[3][:, c - x0:max(c, d) - x0]

    def _paste(self, item: tuple[str, float, float], rgba: int, h: int, w: int
               ) -> tuple[int, int, int, int, np.ndarray | None]:
        """Where the picture of a changing part at (x, y) goes in an image of h x w (rows a..b,
        columns c..d, clipped as a blit is) and its pixels there (None: outside)."""
        text, x, y = item
        up = self._up()
        fx, fy = math.floor(x), math.floor(y)
        k = math.floor(y - fy + up + 0.5)            # the baseline's whole-pixel rounding
        hit = self._inked.get((text, x - fx, k, rgba))
        if hit is None:
            hit = self._ink(text, x - fx, k, up)
        x0, y0, src = fx + hit[0], fy + hit[1], hit[3]
        a, b = max(y0, 0), min(y0 + src.shape[0], h)
        c, d = max(x0, 0), min(x0 + src.shape[1], w)
        return (a, b, c, d, src[a - y0:b - y0, c - x0:d - x0]) if a < b and c < d else (0, 0, 0, 0, None)

    def warm(self, texts: list[str]) -> None:
        """Make the pixmaps of these changing parts (e.g. every entropy a model's heads can have)
        for every baseline rounding now, rather than on a key. Their x fraction depends neither
        on the width nor the row: a changing part ends at the labels' right edge, a whole pixel."""
        up = self._up()
        for text in texts:
            x = -self.plot.texts.get(text, self.plot.tick_font)[1]
            for k in sorted({math.floor(fy + up + 0.5) for fy in (0.0, 0.999)} | {1}):
                if (text, x - math.floor(x), k, self.plot.fg.rgba()) not in self._inked:
                    self._ink(text, x - math.floor(x), k, up)

    def _ink(self, text: str, fx: float, k: int, up: float) -> tuple[int, int, QtGui.QPixmap, np.ndarray]:
        """The pixmap of ``text`` drawn on white with its top-left at (fx, y) for a y fraction
        whose baseline rounds to k (Qt places text at a sub-pixel x but on a whole-pixel
        baseline, round(y + ascent): every such y gives the same picture), from its line's top
        to a pixel below its ink, where its corner is relative to (floor(x), floor(y)), and its
        pixels (RGB32)."""
        # the y fractions of that rounding are [k - 0.5 - up, k + 0.5 - up) within [0, 1): draw
        # at the middle of them, away from where the rounding changes
        fy = (max(0.0, k - 0.5 - up) + min(1.0, k + 0.5 - up)) / 2
        font, fg = self.plot.tick_font, self.plot.fg
        metrics = QtGui.QFontMetricsF(font)
        ink = metrics.tightBoundingRect(text).translated(fx, fy + metrics.ascent())
        # the text's own corner stays at or right/below the pixmap's: Qt places text drawn at a
        # negative position a pixel off (it truncates towards zero)
        cx, cy = min(math.floor(ink.left()) - 1, 0), min(math.floor(ink.top()) - 1, 0)
        pm = QtGui.QPixmap(math.ceil(ink.right()) + 2 - cx, math.ceil(ink.bottom()) + 2 - cy)
        pm.fill(QtGui.QColor("white"))
        q = QtGui.QPainter(pm)
        q.setFont(font)
        q.setPen(fg)
        q.drawStaticText(QtCore.QPointF(fx - cx, fy - cy), self.plot.texts.get(text, font)[0])
        q.end()
        if len(self._inked) > 4096:
            self._inked.clear()
        hit = self._inked[(text, fx, k, fg.rgba())] = (cx, cy, pm, _pixels(pm))
        return hit

    def _fixed_layer(self, fixed: list[tuple[str, float, float]]) -> tuple[QtGui.QPixmap, np.ndarray]:
        """The fixed parts drawn on white, and its pixels (RGB32; at one device pixel a pixel)."""
        dpr, fg = self.devicePixelRatioF(), self.plot.fg
        key = (self.width(), self.height(), dpr, fg.rgba(), tuple(fixed))
        if self._layer is not None and self._layer[0] == key:
            return self._layer[1], self._layer[2]
        pm = QtGui.QPixmap(max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(pm)
        font = self.plot.tick_font
        p.setFont(font)
        p.setPen(fg)
        for text, x, y in fixed:
            p.drawStaticText(QtCore.QPointF(x, y), self.plot.texts.get(text, font)[0])
        p.end()
        self._layer = (key, pm, _pixels(pm))
        return pm, self._layer[2]


def _pixels(pm: QtGui.QPixmap) -> np.ndarray:
    """An opaque pixmap's pixels as (height, width) uint32 0xffRRGGBB (a copy)."""
    img = pm.toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    rows = np.frombuffer(img.constBits(), np.uint32, img.sizeInBytes() // 4).reshape(img.height(), -1)
    return rows[:, :img.width()].copy()


class AttentionStrip(LivePlot):
    """Each head's weights at the cursor: one row per (layer, head), a gap between layers."""

    CLIP_TO_KEYS = True      # False: the whole image blitted (what the clipped blit must equal)

    def __init__(self) -> None:
        super().__init__("At the cursor", "earlier character (position)", None)
        self.title_font.setPointSizeF(9.0)
        self.layers, self.heads, self.context = 1, 1, 1
        self.view: AttentionView | None = None
        self.values = np.zeros((0, 0), np.float32)      # (layers * heads, k): the weights shown
        self.pixels = np.zeros((0, 0), np.uint32)
        self.qimage = QtGui.QImage()
        self.chosen: tuple[float, float, float] | None = None   # the chosen head's box: x0, x1, y
        self._labels_key: tuple | None = None
        self._heads_key: tuple | None = None
        self._heads: list[tuple[float, str]] = []     # (row y, "L1 H1 · "): the labels' fixed parts
        self._placed: tuple[tuple, list[tuple[QtCore.QRectF, QtCore.QRectF]]] | None = None   # see _blits
        self.row_axis = EntropyLabels(self)     # the entropies change on every key: labels of their own
        self._query_colour = QtGui.QColor(ACCENT)      # the query's line: 2 px
        self._box_pen = QtGui.QPen(QtGui.QColor(SELECT), 2)
        self.set_message(EMPTY)

    def row(self, layer: int, head: int) -> float:
        """The first y of (layer, head): heads of one layer together, a gap between layers."""
        return layer * (self.heads + GAP) + head

    def set_model(self, layers: int, heads: int, context: int) -> None:
        self.layers, self.heads, self.context = layers, heads, context
        self.view, self.chosen, self._labels_key, self._heads_key = None, None, None, None
        self.values = np.zeros((layers * heads, 0), np.float32)
        self.pixels = np.full((layers * heads, context), BACKGROUND, np.uint32)
        self.qimage = _image(self.pixels)
        self.set_y_range(0, self.row(layers - 1, heads), inverted=True)
        self.set_x_range(0, context)
        self.row_labels(np.zeros((layers, heads)))
        # every entropy a head can show (0 to log2(context) bits), made now rather than on keys
        self.row_axis.warm([f"{e / 10:.1f} b" for e in range(int(np.ceil(10 * np.log2(max(context, 2)))) + 1)])
        self.set_message(EMPTY)

    def row_labels(self, entropy: np.ndarray) -> None:
        """Each row labelled with its head and entropy when the rows are tall enough to read;
        else one label per layer (the entropies are then on the pattern's head labels)."""
        rows = self.layers * self.heads
        tall = self.data_rect().height() / max(rows + GAP * (self.layers - 1), 1) >= 12
        shown = tall or self.heads == 1
        # the entropies as shown: the key, and (a new frame's) labels without formatting again
        texts = [f"{e:.1f} b" for e in entropy.ravel().tolist()] if shown else []
        key = (tall, texts)
        if key == self._labels_key:
            return
        self._labels_key = key
        shape = (shown, self.layers, self.heads)
        if self._heads_key != shape:             # the rows' places and heads: per model and height
            self._heads_key = shape
            if shape[0]:
                self._heads = [(self.row(i, h) + 0.5, f"L{i + 1} H{h + 1} · ")
                               for i in range(self.layers) for h in range(self.heads)]
            else:
                self._heads = [(self.row(i, 0) + self.heads / 2, f"layer {i + 1}, H1–{self.heads}")
                               for i in range(self.layers)]
            self.set_y_ticks([(v, "") for v, _ in self._heads])
        if shape[0]:
            parts = [(v, a, b) for (v, a), b in zip(self._heads, texts, strict=True)]
        else:
            parts = [(v, a, "") for v, a in self._heads]
        self.row_axis.set_parts(parts)

    def labels(self) -> list[str]:
        """The rows' labels as shown, top to bottom."""
        return self.row_axis.labels()

    def show_view(self, v: AttentionView | None) -> None:
        self.view = v
        if v is None or v.query < 0 or not v.rows.shape[-1]:
            self.values = np.zeros((self.layers * self.heads, 0), np.float32)
            self.set_message(EMPTY)
            self.update()
            return
        self.set_message("")
        k = v.rows.shape[-1]
        self.values = np.asarray(v.rows, np.float32).reshape(self.layers * self.heads, k)
        self.pixels[:, :k] = colour_weights(self.values)   # all change per key
        self.pixels[:, k:] = BACKGROUND
        self.set_x_range(float(v.key_start), float(v.key_start + self.context))     # moves in jumps
        self.row_labels(v.entropy)
        # what a key changes is inside the plot area (the weights, the query's line, the chosen
        # box: all drawn clipped to it); a new range or new row labels repaint all themselves
        self.update(self.data_rect().toAlignedRect().adjusted(-1, -1, 1, 1))

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        self._labels_key = None                  # tall enough rows for a label each? (the height)
        self.row_labels(self.view.entropy if self.view is not None and self.view.query >= 0
                        else np.zeros((self.layers, self.heads)))

    def paint_data(self, p: QtGui.QPainter) -> None:
        v = self.view
        k = self.values.shape[1]
        if v is None or not k:
            return
        # the whole context's width (white right of the query): the same scale for every k, so a
        # key does not move where the columns' pixel edges fall. Only the columns up to the query
        # are blitted (clipped there, the same mapping): right of it the image and the layer under
        # it are both white, and a key blits 1/2 to all of the image rather than all of it
        r = self.data_rect()
        if self.CLIP_TO_KEYS:
            p.save()
            right = self.x_px(float(v.key_start + k)) + 2.0
            p.setClipRect(QtCore.QRectF(r.left(), r.top(), right - r.left(), r.height()),
                          QtCore.Qt.ClipOperation.IntersectClip)
        for target, source in self._blits(v.key_start):
            p.drawImage(target, self.qimage, source)
        if self.CLIP_TO_KEYS:
            p.restore()
        x = self.x_px(v.query + 0.5)              # (the 2-px pen's pixels, filled: no pen stroker)
        self.line_2px(p, QtCore.QPointF(x, r.top()), QtCore.QPointF(x, r.bottom()), self._query_colour)
        if self.chosen is not None:
            a, b, y = self.chosen
            xa, xb, ya, yb = self.x_px(a), self.x_px(b), self.y_px(y), self.y_px(y + 1)
            p.setPen(self._box_pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRect(QtCore.QRectF(xa, ya, xb - xa, yb - ya))

    def _blits(self, key_start: int) -> list[tuple[QtCore.QRectF, QtCore.QRectF]]:
        """Each layer's (target, source) rectangles of the image, kept while the plot's area,
        ranges and the first key hold (they move in jumps)."""
        width = self.pixels.shape[1]
        geometry = (self.data_rect().getRect(), self.x_range(), self.y_range(), self.y_inverted,
                    key_start, width, self.layers, self.heads)
        if self._placed is None or self._placed[0] != geometry:
            x0, x1 = self.x_px(float(key_start)), self.x_px(float(key_start + width))
            blits = []
            for i in range(self.layers):
                top, bottom = self.y_px(self.row(i, 0)), self.y_px(self.row(i, self.heads))
                blits.append((QtCore.QRectF(x0, top, x1 - x0, bottom - top),
                              QtCore.QRectF(0, i * self.heads, width, self.heads)))
            self._placed = (geometry, blits)
        return self._placed[1]

    def head_at(self, y: float) -> tuple[int, int] | None:
        for i in range(self.layers):
            h = int(np.floor(y - self.row(i, 0)))
            if 0 <= h < self.heads and y - self.row(i, 0) >= 0:
                return i, h
        return None

    def tooltip_at(self, x: float, y: float) -> str | None:
        v, hit = self.view, self.head_at(y)
        t = int(np.floor(x))
        if v is None or v.query < 0 or hit is None or not v.key_start <= t <= v.query:
            return None
        layer, head = hit
        w = v.rows[layer, head, t - v.key_start]
        c = v.chars[t - v.key_start]
        return (f"layer {layer + 1}, head {head + 1}: the query at #{v.query} gives "
                f"'{char_label(c)}' (#{t}) weight {w:.3f}\nclick: colour the text by this head")


class AttentionPattern(LivePlot):
    """The chosen layer's heads' query x key matrices side by side, a white gap between heads.
    The heads' labels (their entropies: new on every key) are the axis's glyph run, made here
    from kept glyph places (see _head_run)."""

    KEPT_LABELS = True       # False: the axis makes and draws the run (what the kept places must equal)

    def __init__(self) -> None:
        super().__init__("Pattern", "key · a block per head (bits)", "query")
        self.title_font.setPointSizeF(9.0)
        self.set_legend(colour_rgb(GATE_MAP), *LEVELS, "weight", nice_ticks(*LEVELS, 150, 30))
        self.heads, self.span, self.layer = 1, 0, 0
        self.view: AttentionView | None = None
        self.values = np.zeros((0, 0), np.float32)      # (n, width): the heads' blocks, NaN in the gaps
        self.pixels = np.zeros((0, 0), np.uint32)
        self.qimage = QtGui.QImage()
        self.recoloured = (0, 0)                        # query rows [a, b) coloured by the last frame
        self.chosen: int | None = None                  # the chosen head's block (this layer's)
        self._ticks_key: tuple | None = None
        self._narrow: tuple[tuple[int, int], bool] | None = None   # ((width, span), only "H2" labels)
        self.axis = SlotTicks(self)             # the heads' entropies change on every key
        self._rows_of = (-1, -1)                        # (start, layer) the coloured rows belong to
        self._pattern: np.ndarray | None = None         # the pattern they show (a copy)
        self._rows = np.zeros((0, 0), np.float32)       # (span, width): values' rows, kept (a key adds one)
        self._gaps = np.zeros(0, np.uint32)              # see _rows_template
        self._gap_values = np.zeros(0, np.float32)       # a query row's values before its keys: NaN gaps, 0
        self._slots_of: tuple[tuple, list[int]] = ((), [])
        self._marks_at: tuple[tuple, list[float], list[QtCore.QLineF]] | None = None   # see _head_run
        self._places: dict[tuple[float, tuple[float, ...]], list[QtCore.QPointF]] = {}    # see _head_run
        # the tick font's glyphs (QRawFont.fromFont is slow the first time: made here, not on a key)
        self._raw: tuple[QtGui.QFont, QtGui.QRawFont] | None = (self.tick_font, QtGui.QRawFont.fromFont(self.tick_font))
        self._row_pen = QtGui.QPen(QtGui.QColor(ACCENT), 1.5)
        self._box_pen = QtGui.QPen(QtGui.QColor(SELECT), 2)

    def set_model(self, heads: int) -> None:
        self.heads, self.span, self.view, self.chosen, self._ticks_key = heads, 0, None, None, None
        self.values, self._rows_of, self._pattern = np.zeros((0, 0), np.float32), (-1, -1), None

    def slot(self, h: int) -> float:
        """x of head h's block (blocks of the span, a gap between)."""
        return h * (self.span + max(2, self.span // 8))

    def _slots(self) -> list[int]:
        """Each head's block's first column (``slot``), kept per span and heads."""
        if self._slots_of[0] != (self.span, self.heads):
            self._slots_of = ((self.span, self.heads), [int(self.slot(h)) for h in range(self.heads)])
        return self._slots_of[1]

    def show_view(self, v: AttentionView | None) -> None:
        before = self.view
        self.view = v
        if v is None or v.query < 0 or not v.rows.shape[-1]:
            self.values = np.zeros((0, 0), np.float32)
            self.update()
            return
        n, span = v.pattern.shape[-1], v.span
        same_frame = (before is not None and before.query >= 0 and len(self.values) > 0
                      and (before.start, before.layer, before.span) == (v.start, v.layer, span))
        if span != self.span:                     # the blocks' layout: only for a new span
            self.span = span
            self.set_x_range(0.0, float(int(self.slot(self.heads - 1)) + span))
        width = int(self.slot(self.heads - 1)) + span
        first = 0                                 # typing at the end adds a query row: colour from there
        old = self.values
        if old.shape[1] == width and self.pixels.shape == (span, width) and (v.start, v.layer) == self._rows_of:
            m = min(len(old), n)
            if self._pattern is not None and _same_rows(v.pattern, self._pattern, m):
                # the rows shown are as they were (a causal query does not see the new key):
                # only the new rows' blocks are made, in the kept buffer
                first = m
                if n > m:                         # (as _blocks makes them: gaps, then each head's keys)
                    self._rows[m:n] = self._gap_values
                    for h, x in enumerate(self._slots()):
                        self._rows[m:n, x:x + n] = v.pattern[h, m:n]
            else:
                values = self._blocks(v.pattern, 0, n, span, width)
                same = np.all((old[:m] == values[:m]) | (np.isnan(old[:m]) & np.isnan(values[:m])), axis=1)
                first = m if same.all() else int(np.argmin(same))
                self._rows[first:n] = values[first:]
        else:
            self._rows = np.full((span, width), np.nan, np.float32)
            self._rows[:n] = self._blocks(v.pattern, 0, n, span, width)
            self.pixels = np.full((span, width), BACKGROUND, np.uint32)
            self.qimage = _image(self.pixels)
            self._gaps = self._rows_template(span, width)
            self._gap_values = np.full(width, np.nan, np.float32)
            for x in self._slots():
                self._gap_values[x:x + span] = 0.0
        self._rows_of = (v.start, v.layer)
        if n > first:
            # each block's keys coloured (all heads in one call) over a row of the blocks' empty
            # colour and the gaps' white: what colouring the rows' values gives
            self.pixels[first:n] = self._gaps
            keys = colour_weights(v.pattern[:, first:n])
            for h, x in enumerate(self._slots()):
                self.pixels[first:n, x:x + keys.shape[-1]] = keys[h]
        if len(old) > n and self.pixels.shape[0] >= len(old):
            self.pixels[n:len(old)] = BACKGROUND
        self.values, self.recoloured = self._rows[:n], (first, n)
        self._pattern = np.array(v.pattern)
        self.set_y_range(v.start, v.start + span, inverted=True)
        self._set_head_labels(v, span)
        # short: at 1024×640 the pattern plot is ~230 px wide (the axes say query and key)
        self.set_title(f"Layer {v.layer + 1} · last {span} chars")
        if not same_frame or before is None:
            self.update()
            return
        # typing at the end: the new query rows and the query line's old and new place
        r = self.data_rect()
        rows = [(float(first + v.start), float(max(n, len(old)) + v.start))] if max(n, len(old)) > first else []
        rows += [(q + 0.5, q + 0.5) for q in {before.query, v.query}]
        # (px_y's arithmetic on plain floats: a few numbers, no numpy arrays)
        (lo, hi), top, height = self.y_range(), r.top(), r.height()
        for a, b in rows:
            ya, yb = sorted((top + (a - lo) / ((hi - lo) or 1.0) * height, top + (b - lo) / ((hi - lo) or 1.0) * height))
            self.update(QtCore.QRectF(r.left() - 1, ya - 3, r.width() + 2, yb - ya + 6).toAlignedRect())

    def _set_head_labels(self, v: AttentionView, span: int) -> None:
        """Each block's head and entropy ("H2 · 4.5 b"), or only the head ("H2") when a block
        is too narrow for the longer label (a small window): labels never overlap; the
        entropies are also at the strip's rows and in the tooltip."""
        if self._narrow is None or self._narrow[0] != (self.width(), span):
            lo, hi = self.x_range()
            block = self.data_rect().width() * span / max(hi - lo, 1e-9)
            widest = QtGui.QFontMetricsF(self.tick_font).horizontalAdvance("H8 · 8.8 b")
            self._narrow = ((self.width(), span), widest + 6 > block)
        if self._narrow[1]:
            labels = [f"H{h + 1}" for h in range(self.heads)]
        else:
            labels = [f"H{h + 1} · {e:.1f} b" for h, e in enumerate(v.entropy[v.layer].tolist())]
        if (span, labels) != self._ticks_key:     # entropies change per key
            self._ticks_key = (span, labels)
            self.axis.set([(self.slot(h) + span / 2, s) for h, s in enumerate(labels)])

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        if self.view is not None and self.span:           # the labels the new width has room for
            self._set_head_labels(self.view, self.span)

    def _rows_template(self, span: int, width: int) -> np.ndarray:
        """A query row's pixels before its keys are coloured: each block the colour of weight 0
        (keys not read yet), white in the gaps."""
        row = np.full(width, BACKGROUND, np.uint32)
        for h in range(self.heads):
            x = int(self.slot(h))
            row[x:x + span] = colour_table(GATE_MAP)[0]
        return row

    def _blocks(self, pattern: np.ndarray, a: int, b: int, span: int, width: int) -> np.ndarray:
        """Query rows [a, b) of the heads' blocks side by side: a block is span keys wide, 0
        right of the last key (not read yet), NaN (white) in the gaps."""
        n = pattern.shape[-1]
        values = np.full((b - a, width), np.nan, np.float32)
        for h in range(self.heads):
            x = int(self.slot(h))
            values[:, x:x + span] = 0.0
            values[:, x:x + n] = pattern[h, a:b]
        return values

    def paint_data(self, p: QtGui.QPainter) -> None:
        v, n = self.view, len(self.values)
        if v is None or not n:
            return
        width, span = self.values.shape[1], self.pixels.shape[0]
        x0, x1 = self.x_px(0.0), self.x_px(float(width))
        y0, y1 = self.y_px(float(v.start)), self.y_px(float(v.start + span))  # all span rows (white below
        p.drawImage(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0), self.qimage,   # the query): the same scale
                    QtCore.QRectF(0, 0, width, span))                        # whatever n is
        r = self.data_rect()
        if v.start <= v.query < v.start + n:
            y = self.y_px(v.query + 0.5)
            p.setPen(self._row_pen)
            p.drawLine(QtCore.QPointF(r.left(), y), QtCore.QPointF(r.right(), y))
        if self.chosen is not None:
            xa, xb = self.x_px(self.slot(self.chosen)), self.x_px(self.slot(self.chosen) + self.span)
            ya, yb = self.y_px(float(v.start)), self.y_px(float(v.start + self.span))
            p.setPen(self._box_pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRect(QtCore.QRectF(xa, ya, xb - xa, yb - ya))

    def paint_overlay(self, p: QtGui.QPainter) -> None:
        kept = self._head_run() if self.KEPT_LABELS else None
        if kept is None:
            self.axis.paint(p)
            return
        marks, run, baseline = kept
        p.setPen(self.muted)
        p.drawLines(marks)
        p.setPen(self.fg)
        p.drawGlyphRun(QtCore.QPointF(0.0, baseline), run)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self._places.clear()
            self._raw = None
        super().changeEvent(ev)

    def _head_run(self) -> tuple[list[QtCore.QLineF], QtGui.QGlyphRun, float] | None:
        """The heads' tick marks and their labels as one glyph run, what the axis draws, with
        each label's glyph places kept per (x, advances): an entropy's digits are as wide as
        the last key's, so a key reuses them and only the glyphs change. None for a label with a
        glyph the font lacks (the axis draws it by its font fallback)."""
        ticks = self.axis.ticks
        if not ticks:
            return None
        r = self.data_rect()
        geometry = (r.getRect(), self.x_range(), tuple(v for v, _ in ticks))
        if self._marks_at is None or self._marks_at[0] != geometry:
            xs = [self.x_px(v) for v, _ in ticks]            # (px_x's arithmetic on plain floats)
            xs = [x if r.left() - 0.5 <= x <= r.right() + 0.5 else math.nan for x in xs]
            marks = [QtCore.QLineF(x, r.bottom(), x, r.bottom() + TICK) for x in xs if x == x]
            self._marks_at = (geometry, xs, marks)
        _, xs, marks = self._marks_at
        if self._raw is None or self._raw[0] is not self.tick_font:
            self._raw = (self.tick_font, QtGui.QRawFont.fromFont(self.tick_font))
        indexes: list[int] = []
        at: list[QtCore.QPointF] = []
        places = self._places
        if len(places) > 1024:
            places.clear()
        for (_, label), x in zip(ticks, xs, strict=True):
            if x != x:                                      # (outside the plot)
                continue
            g = self.axis.glyphs(label)
            if g is None:
                return None
            idx, adv, width = g
            key = (x, tuple(adv))
            here = places.get(key)
            if here is None:
                here, gx = [], x - width / 2
                for a in adv:
                    here.append(QtCore.QPointF(gx, 0.0))
                    gx += a
                places[key] = here
            indexes += idx
            at += here
        run = QtGui.QGlyphRun()
        if indexes:
            run.setRawFont(self._raw[1])
            run.setGlyphIndexes(indexes)
            run.setPositions(at)
        return marks, run, r.bottom() + TICK + 1 + self._raw[1].ascent()

    def head_at(self, x: float) -> tuple[int, float] | None:
        """(head, key position) under x, None in a gap."""
        if self.view is None or not self.span:
            return None
        slot = self.slot(1) - self.slot(0) if self.heads > 1 else self.span + 1
        h, dx = int(x // slot), x % slot
        if 0 <= h < self.heads and dx < self.span:
            return h, self.view.start + dx
        return None

    def tooltip_at(self, x: float, y: float) -> str | None:
        v, hit = self.view, self.head_at(x)
        if v is None or hit is None or v.query < 0:
            return None
        head, key = hit
        n = v.pattern.shape[-1]
        t, q = int(np.floor(key)), int(np.floor(y))
        if not (v.start <= t < v.start + n and v.start <= q < v.start + n):
            return None
        w = v.pattern[head, q - v.start, t - v.start]
        qc, kc = v.pattern_chars[q - v.start], v.pattern_chars[t - v.start]
        return (f"layer {v.layer + 1}, head {head + 1}: query '{char_label(qc)}' (#{q}) → "
                f"key '{char_label(kc)}' (#{t}): weight {w:.3f}\nclick: colour the text by this head")


def _same_rows(new: np.ndarray, old: np.ndarray, m: int) -> bool:
    """Whether query rows [0, m) of two (heads, n, n) patterns show the same blocks: the same
    weights where both have keys, zeros where only one has (NaN never the same)."""
    k = min(new.shape[-1], old.shape[-1])
    return bool(np.array_equal(new[:, :m, :k], old[:, :m, :k]) and not new[:, :m, k:].any()
                and not old[:, :m, k:].any())


class AttentionPanel(QtWidgets.QWidget):
    """set_model(layers, heads, context); show_attention(AttentionView | None)."""

    layer_chosen = QtCore.Signal(int)          # the layer whose patterns are shown
    head_chosen = QtCore.Signal(object)        # (layer, head) colouring the text, or None

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.layers, self.heads, self.context = 0, 0, 1
        self.layer = 0
        self.head: tuple[int, int] | None = None
        self._shown: tuple | None = None
        self._view: AttentionView | None = None
        self.layer_combo = QtWidgets.QComboBox()
        self.head_combo = QtWidgets.QComboBox()
        self.help_button = QtWidgets.QToolButton()
        self.help_button.setText("How to read this")
        self.summary = QtWidgets.QLabel()
        self.summary.setStyleSheet(f"color: {MUTED};")
        set_tip(self.layer_combo, "The layer whose query × key patterns are shown on the right.")
        set_tip(self.head_combo, "Colour the editor's text by this head's attention weights at the cursor.")
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        for w in (QtWidgets.QLabel("Pattern of"), self.layer_combo, QtWidgets.QLabel("Colour by"),
                  self.head_combo, self.summary):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.help_button)
        self.strip, self.pattern = AttentionStrip(), AttentionPattern()
        self.view = QtWidgets.QWidget()          # the two plots, white between them as one picture
        pal = self.view.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("white"))
        self.view.setPalette(pal)
        self.view.setAutoFillBackground(True)
        plots = QtWidgets.QHBoxLayout(self.view)
        plots.setContentsMargins(2, 2, 2, 2)
        plots.setSpacing(0)
        plots.addWidget(self.strip.row_axis)
        plots.addWidget(self.strip, 5)
        plots.addSpacing(4)
        plots.addWidget(self.pattern, 4)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        self.setMinimumHeight(170)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_combo)
        self.head_combo.currentIndexChanged.connect(self._on_head_combo)
        self.help_button.clicked.connect(self.show_help)
        self.strip.clicked.connect(self._on_strip_clicked)
        self.strip.row_axis.clicked.connect(lambda y: self._on_strip_clicked(0.0, y))
        self.pattern.clicked.connect(self._on_pattern_clicked)
        for plot in (self.view, self.strip, self.strip.row_axis, self.pattern):
            set_tip(plot, VIEW_TIP)
        self.set_model(1, 1, 1)

    # -- the model's fixed parts ---------------------------------------------------------------
    def _row(self, layer: int, head: int) -> float:
        """The strip's first row of (layer, head): heads of one layer together, a gap between layers."""
        return self.strip.row(layer, head)

    def set_model(self, layers: int, heads: int, context: int) -> None:
        """Set the views up for a model of `layers` x `heads` attention heads and this context length."""
        self.layers, self.heads, self.context = max(int(layers), 1), max(int(heads), 1), max(int(context), 1)
        self._shown, self._view = None, None
        self.layer = min(self.layer, self.layers - 1)
        self.head = None
        for combo, items in ((self.layer_combo, [f"layer {i + 1}" for i in range(self.layers)]),
                             (self.head_combo, ["nothing"] + [f"layer {i + 1} · head {h + 1}"
                                                              for i in range(self.layers) for h in range(self.heads)])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.blockSignals(False)
        self.layer_combo.setCurrentIndex(self.layer)
        self.strip.set_model(self.layers, self.heads, self.context)
        self.pattern.set_model(self.heads)
        self.pattern.show_view(None)
        self.summary.setText(f"{self.layers} × {self.heads} heads · context {self.context}")   # fits at 1024×640
        self.summary.setToolTip(f"{self.layers} layer{'s' * (self.layers > 1)} × {self.heads} "
                                f"head{'s' * (self.heads > 1)} per layer; each head sees the last "
                                f"{self.context} characters (the context)")
        self._mark_chosen()

    # -- per frame ---------------------------------------------------------------------------
    def show_attention(self, v: AttentionView | None) -> None:
        """Draw one frame's attention (None or nothing read yet: the empty state)."""
        key = None if v is None else (v.query, v.key_start, v.start, v.layer, v.chars, v.pattern_chars)
        if v is not None and key == self._shown and self._view is not None and np.array_equal(
                v.rows, self._view.rows) and np.array_equal(v.pattern, self._view.pattern):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown, self._view = key, v
        self.strip.show_view(v)
        self.pattern.show_view(v)
        if v is None or v.query < 0 or not v.rows.shape[-1]:
            return
        self._mark_chosen()
        if v.layer != self.layer:
            self.layer = v.layer
            self.layer_combo.blockSignals(True)
            self.layer_combo.setCurrentIndex(v.layer)
            self.layer_combo.blockSignals(False)

    # -- choosing ------------------------------------------------------------------------------
    def choose_head(self, head: tuple[int, int] | None) -> None:
        """Colour the text by `head` ((layer, head)) or by nothing; emits head_chosen."""
        if head is not None and not (0 <= head[0] < self.layers and 0 <= head[1] < self.heads):
            head = None
        self.head = head
        self.head_combo.blockSignals(True)
        self.head_combo.setCurrentIndex(0 if head is None else 1 + head[0] * self.heads + head[1])
        self.head_combo.blockSignals(False)
        self._mark_chosen()
        self.head_chosen.emit(head)

    def choose_layer(self, layer: int) -> None:
        """Show the patterns of `layer`; emits layer_chosen."""
        self.layer = int(np.clip(layer, 0, self.layers - 1))
        self.layer_combo.blockSignals(True)
        self.layer_combo.setCurrentIndex(self.layer)
        self.layer_combo.blockSignals(False)
        self._mark_chosen()
        self.layer_chosen.emit(self.layer)

    def _mark_chosen(self) -> None:
        if self.head is None:
            chosen = None
        else:
            x0, x1 = (self._view.key_start, self._view.query + 1) if self._view is not None else (0, self.context)
            chosen = (float(x0), float(x1), self._row(*self.head))
        pattern = self.head[1] if self.head is not None and self.head[0] == self.layer else None
        if chosen != self.strip.chosen or pattern != self.pattern.chosen:
            self.strip.chosen, self.pattern.chosen = chosen, pattern
            self.strip.update()
            self.pattern.update()

    def _on_layer_combo(self, index: int) -> None:
        if index >= 0:
            self.choose_layer(index)

    def _on_head_combo(self, index: int) -> None:
        self.choose_head(None if index <= 0 else divmod(index - 1, self.heads))

    def _toggle(self, hit: tuple[int, int] | None) -> None:
        if hit is not None:
            self.choose_head(None if self.head == hit else hit)

    def _on_strip_clicked(self, _x: float, y: float) -> None:
        self._toggle(self.strip.head_at(y))

    def _on_pattern_clicked(self, x: float, _y: float) -> None:
        hit = self.pattern.head_at(x)
        self._toggle(None if hit is None else (self.layer, hit[0]))

    def show_help(self) -> None:
        """The panel's "how to read this", in a non-modal box."""
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "How to read this — Attention",
                                    HELP, QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(QtCore.Qt.TextFormat.RichText)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.help_box = box
        box.open()


def demo_view(layers: int = 2, heads: int = 4, context: int = 128, text: str = "", seed: int = 0,
              layer: int = 0) -> AttentionView:
    """A made-up AttentionView of the right shapes: causal softmax of random scores, each head
    with its own habit (the current character, the previous one, a spread, a fixed place)."""
    text = text or 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)  # float\n'
    n_text = len(text)
    rng = np.random.default_rng(seed)
    q = n_text - 1
    t = np.arange(n_text)
    scores = rng.normal(0, 1, (layers, heads, n_text, n_text))
    for h in range(heads):
        habit = h % 4
        if habit == 0:
            scores[:, h] += 6 * (t[:, None] == t[None, :])
        elif habit == 1:
            scores[:, h] += 6 * (t[:, None] - 1 == t[None, :])
        elif habit == 3:
            scores[:, h] += 5 * np.isin(np.array(list(text)), ['"', "("])[None, :]
    causal = (t[None, :] <= t[:, None]) & (t[:, None] - t[None, :] < context)
    scores = np.where(causal, scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    key_start = max(0, q + 1 - context)
    rows = w[:, :, q, key_start:q + 1].astype(np.float32)
    ent = -(rows * np.log2(np.maximum(rows, 1e-30))).sum(axis=-1).astype(np.float32)
    start = max(0, -(-(q + 1 - 48) // 16) * 16)
    pattern = w[layer, :, start:q + 1, start:q + 1].astype(np.float32)
    return AttentionView(layers, heads, context, q, key_start, rows, text[key_start:q + 1], ent, layer, start,
                         pattern, text[start:q + 1], None, 48)


def demo(*_: object) -> AttentionPanel:
    """The panel with made-up attention of the right shapes (``python -m explorer.ui.sequence.attention``)."""
    w = AttentionPanel()
    w.set_model(2, 4, 128)
    w.show_attention(demo_view())
    w.layer_chosen.connect(lambda layer: w.show_attention(demo_view(layer=layer)))
    return w


def main() -> None:
    """Show the demo panel (offscreen: save a picture of it to /tmp/attention_demo.png)."""
    import os

    import explorer.ui  # noqa: F401  (pyqtgraph options)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    panel = demo()
    panel.resize(900, 260)
    panel.setWindowTitle("AttentionPanel — demo (made-up weights)")
    panel.show()
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        app.exec()
    else:
        panel.grab().save("/tmp/attention_demo.png")
    panel.close()
    panel.deleteLater()
    app.processEvents()


if __name__ == "__main__":
    main()
