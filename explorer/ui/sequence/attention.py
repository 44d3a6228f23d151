"""AttentionPanel: where a transformer's heads look when it predicts the character at the cursor.

Left, "at the cursor": one row per (layer, head), one column per earlier character the
cursor's query can see (the model's context); the colour is the attention weight (each row
sums to 1). The row labels give each head's entropy in bits: 0 = it looks at one character,
log2(k) = evenly at all k. Right, "pattern": for the chosen layer, each head's whole
query x key matrix over the last characters up to the cursor (lower triangle: a position
never looks ahead). Clicking a row or a pattern chooses that head: the lab then colours the
editor's text by its weights. One image per view: a keystroke re-sets 1 + H images.

A transformer has no gates; this panel takes the gates panel's place for one, and the
entropies are its honest stand-in for "what does this layer keep?".
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.sequence_parts import AttentionView
from explorer.ui.sequence.common import (
    ACCENT,
    GATE_MAP,
    MUTED,
    SELECT,
    char_label,
    cmap,
    empty_text,
    legend_bar,
    one_update_rect,
    set_tip,
    set_title_text,
    set_x_range,
    style_plot,
)
from explorer.ui.sequence.fastitems import FastImageItem, FastTickAxis

GAP = 0.35          # blank rows between two layers' heads in the strip
LEVELS = (0.0, 1.0)

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
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        one_update_rect(self.view)
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        self.setMinimumHeight(170)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_combo)
        self.head_combo.currentIndexChanged.connect(self._on_head_combo)
        self.help_button.clicked.connect(self.show_help)
        self.view.scene().sigMouseClicked.connect(self._on_clicked)
        self.view.scene().sigMouseMoved.connect(self._on_moved)
        set_tip(self.view, "Attention at the cursor (left) and the chosen layer's query × key patterns "
                           "(right).\nClick a row or a pattern: colour the text by that head. "
                           "'How to read this' explains more.")
        self.set_model(1, 1, 1)

    # -- the model's fixed parts ---------------------------------------------------------------
    def _row(self, layer: int, head: int) -> float:
        """The strip's first image row of (layer, head): heads of one layer together, a gap between layers."""
        return layer * (self.heads + GAP) + head

    def set_model(self, layers: int, heads: int, context: int) -> None:
        """Build the views for a model of `layers` x `heads` attention heads and this context length."""
        self.view.clear()
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
        self.strip = self.view.addPlot(row=0, col=0, axisItems={"left": FastTickAxis("left")})  # labels change per key
        style_plot(self.strip, "At the cursor", "earlier character (position)", None,
                   size="9pt")
        self.strip.invertY(True)
        self.strip.getAxis("left").setWidth(92)
        self.strip.getAxis("left").setStyle(tickLength=0)
        total = self._row(self.layers - 1, self.heads)
        self.strip.setRange(yRange=(0, total), xRange=(0, self.context), padding=0)
        self._row_ticks(np.zeros((self.layers, self.heads)))
        self.strip_img = FastImageItem(axisOrder="row-major", autoLevels=False, levels=LEVELS)
        self.strip_img.setColorMap(cmap(GATE_MAP))
        self.strip.addItem(self.strip_img)
        for layer in range(1, self.layers):              # white separators between layers (static)
            y = self._row(layer, 0) - GAP
            sep = QtWidgets.QGraphicsRectItem(-1e7, y, 2e7, GAP)
            sep.setBrush(QtGui.QBrush(QtGui.QColor("white")))
            sep.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
            sep.setZValue(5)
            self.strip.addItem(sep, ignoreBounds=True)
        self.query_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(ACCENT, width=2))
        self.chosen_box = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.chosen_box.setPen(pg.mkPen(SELECT, width=2))
        self.chosen_box.setZValue(6)
        self.strip.addItem(self.query_line, ignoreBounds=True)
        self.strip.addItem(self.chosen_box, ignoreBounds=True)
        self.chosen_box.hide()
        self.empty = empty_text(self.strip, "put the cursor after a character")
        self.empty.setPos(self.context / 2, total / 2)
        # every head's pattern side by side in ONE image of one plot: a key repaints two views
        self.pattern = self.view.addPlot(row=0, col=1, axisItems={"bottom": FastTickAxis("bottom")})
        style_plot(self.pattern, "Pattern", "key · a block per head (bits)",
                   "query", size="9pt")
        self.pattern.invertY(True)
        self.pattern_img = FastImageItem(axisOrder="row-major", autoLevels=False, levels=LEVELS)
        self.pattern_img.setColorMap(cmap(GATE_MAP))
        self.pattern.addItem(self.pattern_img)
        self.pattern_row = pg.InfiniteLine(angle=0, pen=pg.mkPen(ACCENT, width=1.5))
        self.pattern.addItem(self.pattern_row, ignoreBounds=True)
        self.pattern_box = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.pattern_box.setPen(pg.mkPen(SELECT, width=2))
        self.pattern_box.setZValue(6)
        self.pattern.addItem(self.pattern_box, ignoreBounds=True)
        self.pattern_box.hide()
        self._span = 0
        self._pattern_stack: np.ndarray | None = None
        self._seps: list[QtWidgets.QGraphicsRectItem] = []
        legend_bar(self.view.ci, GATE_MAP, LEVELS, "weight", 0, 2, width=10)
        layout = self.view.ci.layout
        layout.setColumnStretchFactor(0, 5)
        layout.setColumnStretchFactor(1, 4)
        self.summary.setText(f"{self.layers} × {self.heads} heads · context {self.context}")   # fits at 1024×640
        self.summary.setToolTip(f"{self.layers} layer{'s' * (self.layers > 1)} × {self.heads} "
                                f"head{'s' * (self.heads > 1)} per layer; each head sees the last "
                                f"{self.context} characters (the context)")
        self._mark_chosen()

    def _row_ticks(self, entropy: np.ndarray) -> None:
        """Each row labelled with its head and entropy when the rows are tall enough to read;
        else one label per layer (the entropies are then on the pattern's head labels)."""
        rows = self.layers * self.heads
        tall = self.strip.getViewBox().height() / max(rows + GAP * (self.layers - 1), 1) >= 12
        if tall or self.heads == 1:
            ticks = [(self._row(i, h) + 0.5, f"L{i + 1} H{h + 1} · {entropy[i, h]:.1f} b")
                     for i in range(self.layers) for h in range(self.heads)]
        else:
            ticks = [(self._row(i, 0) + self.heads / 2, f"layer {i + 1}, H1–{self.heads}")
                     for i in range(self.layers)]
        self.strip.getAxis("left").setTicks([ticks])

    # -- per frame ---------------------------------------------------------------------------
    def show_attention(self, v: AttentionView | None) -> None:
        """Draw one frame's attention (None or nothing read yet: the empty state)."""
        key = None if v is None else (v.query, v.key_start, v.start, v.layer, v.chars, v.pattern_chars)
        if v is not None and key == self._shown and self._view is not None and np.array_equal(
                v.rows, self._view.rows) and np.array_equal(v.pattern, self._view.pattern):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown, self._view = key, v
        if v is None or v.query < 0 or not v.rows.shape[-1]:
            self.strip_img.hide()
            self.query_line.hide()
            self.empty.show()
            self.pattern_img.hide()
            self.pattern_row.hide()
            return
        self.empty.hide()
        k = v.rows.shape[-1]
        rows = int(np.ceil(self._row(self.layers - 1, self.heads)))
        stack = np.zeros((rows * 20, k), np.float32)     # 20 sub-rows per row: the gap is GAP * 20 rows
        for i in range(self.layers):
            for h in range(self.heads):
                r = int(round(self._row(i, h) * 20))
                stack[r:r + 20] = v.rows[i, h]
        self.strip_img.setImage(stack, levels=LEVELS)
        self.strip_img.setRect(QtCore.QRectF(v.key_start, 0, k, rows))
        self.strip_img.show()
        set_x_range(self.strip, (float(v.key_start), float(v.key_start + self.context)))   # moves in jumps
        self.query_line.setPos(v.query + 0.5)
        self.query_line.show()
        self._row_ticks(v.entropy)
        self._mark_chosen()
        self._show_pattern(v)
        if v.layer != self.layer:
            self.layer = v.layer
            self.layer_combo.blockSignals(True)
            self.layer_combo.setCurrentIndex(v.layer)
            self.layer_combo.blockSignals(False)

    def _slot(self, h: int) -> float:
        """x of head h's block in the pattern plot (blocks of the span, a gap between)."""
        return h * (self._span + max(2, self._span // 8))

    def _show_pattern(self, v: AttentionView) -> None:
        """The chosen layer's heads side by side: one image, x = block of the head + key - start."""
        n, span = v.pattern.shape[-1], v.span
        if span != self._span:                    # the blocks' layout: only for a new span (not
            self._span = span                     # for each key, as the pattern's rows fill)
            set_x_range(self.pattern, (0.0, float(int(self._slot(self.heads - 1)) + span)))
            for sep in self._seps:
                self.pattern.removeItem(sep)
            self._seps = []
            for h in range(1, self.heads):                # white gaps between the heads (static)
                sep = QtWidgets.QGraphicsRectItem(self._slot(h - 1) + span, -1e7, self._slot(h) - self._slot(h - 1) - span, 2e7)
                sep.setBrush(QtGui.QBrush(QtGui.QColor("white")))
                sep.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
                sep.setZValue(5)
                self.pattern.addItem(sep, ignoreBounds=True)
                self._seps.append(sep)
        width = int(self._slot(self.heads - 1)) + span
        if self._pattern_stack is None or self._pattern_stack.shape != (n, width):
            self._pattern_stack = np.zeros((n, width), np.float32)
        self.pattern.getAxis("bottom").setTicks([[(self._slot(h) + span / 2, f"H{h + 1} · {v.entropy[v.layer, h]:.1f} b")
                                                  for h in range(self.heads)]])    # entropies change per key
        stack = self._pattern_stack
        for h in range(self.heads):
            x = int(self._slot(h))
            stack[:, x:x + n] = v.pattern[h]
        self.pattern_img.setImage(stack, levels=LEVELS)
        self.pattern_img.setRect(QtCore.QRectF(0, v.start, stack.shape[1], n))
        self.pattern_img.show()
        (y0, y1) = self.pattern.getViewBox().state["targetRange"][1]
        if abs(y0 - v.start) > 1e-9 or abs(y1 - v.start - span) > 1e-9:
            self.pattern.setRange(yRange=(v.start, v.start + span), padding=0)
        self.pattern_row.setPos(v.query + 0.5)
        self.pattern_row.setVisible(v.start <= v.query < v.start + n)
        # short: at 1024×640 the pattern plot is ~230 px wide (the axes say query and key)
        set_title_text(self.pattern, f"Layer {v.layer + 1} · last {span} chars", 9)
        self._mark_chosen()

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
            self.chosen_box.hide()
        else:
            y = self._row(*self.head)
            x0, x1 = (self._view.key_start, self._view.query + 1) if self._view is not None else (0, self.context)
            self.chosen_box.setRect(QtCore.QRectF(x0, y, x1 - x0, 1))
            self.chosen_box.show()
        if self.head is not None and self.head[0] == self.layer:
            y0 = self._view.start if self._view is not None else 0
            self.pattern_box.setRect(QtCore.QRectF(self._slot(self.head[1]), y0, self._span, self._span))
            self.pattern_box.show()
        else:
            self.pattern_box.hide()

    def _on_layer_combo(self, index: int) -> None:
        if index >= 0:
            self.choose_layer(index)

    def _on_head_combo(self, index: int) -> None:
        self.choose_head(None if index <= 0 else divmod(index - 1, self.heads))

    def _hit(self, scene_pos: QtCore.QPointF) -> tuple[int, int, float, float] | None:
        """(layer, head, x, y) under a scene point: a strip row or a pattern, else None."""
        if self.strip.sceneBoundingRect().contains(scene_pos):
            p = self.strip.vb.mapSceneToView(scene_pos)
            for i in range(self.layers):
                h = int(np.floor(p.y() - self._row(i, 0)))
                if 0 <= h < self.heads and p.y() - self._row(i, 0) >= 0:
                    return i, h, p.x(), p.y()
            return None
        if self.pattern.sceneBoundingRect().contains(scene_pos):
            p = self.pattern.vb.mapSceneToView(scene_pos)
            slot = self._slot(1) - self._slot(0) if self.heads > 1 else self._span + 1
            h, x = int(p.x() // slot), p.x() % slot
            if 0 <= h < self.heads and x < self._span and self._view is not None:
                return self.layer, h, self._view.start + x, p.y()
        return None

    def _on_clicked(self, event: MouseClickEvent) -> None:
        hit = self._hit(event.scenePos())
        if hit is not None:
            self.choose_head(None if self.head == hit[:2] else hit[:2])

    def _on_moved(self, scene_pos: QtCore.QPointF) -> None:
        hit, v = self._hit(scene_pos), self._view
        if hit is None or v is None or v.query < 0:
            return
        layer, head, x, y = hit
        t = int(np.floor(x))
        in_strip = self.strip.sceneBoundingRect().contains(scene_pos)
        if in_strip and v.key_start <= t <= v.query:
            w = v.rows[layer, head, t - v.key_start]
            c = v.chars[t - v.key_start]
            tip = (f"layer {layer + 1}, head {head + 1}: the query at #{v.query} gives "
                   f"'{char_label(c)}' (#{t}) weight {w:.3f}")
        elif not in_strip and v.start <= t < v.start + v.pattern.shape[-1]:
            q = int(np.floor(y))
            if not v.start <= q < v.start + v.pattern.shape[-1]:
                return
            w = v.pattern[head, q - v.start, t - v.start]
            qc, kc = v.pattern_chars[q - v.start], v.pattern_chars[t - v.start]
            tip = (f"layer {layer + 1}, head {head + 1}: query '{char_label(qc)}' (#{q}) → "
                   f"key '{char_label(kc)}' (#{t}): weight {w:.3f}")
        else:
            return
        self.view.setToolTip(tip + "\nclick: colour the text by this head")

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
