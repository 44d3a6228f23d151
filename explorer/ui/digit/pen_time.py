"""PenTimePanel: both readers' probabilities over pen time, and when each knew.

Two plots sharing the pen-step axis: the pen RNN's probabilities after every pen step (top)
and the CNN's reading of the drawing as it was at that step (bottom), ten class curves each,
a dashed line at the first step from which each stays right. "The digit is" picks what right
means (``target_changed(int)``, -1: each reader's last answer). Each plot is a PaintedPlot
(its update joins the window repaint every other panel is part of): its axes are a cached
layer, the curves ten polylines drawn per paint from one refilled polygon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph.functions as pgf
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.digit.data_layer import DataLayer
from explorer.ui.digit.pen_trajectory import dense_ticks, panel_header
from explorer.ui.digit.plots import CLASS_COLOURS
from explorer.ui.widgets.painted_plot import PaintedPlot
from explorer.ui.widgets.probabilities import WrappedRichLabel
from explorer.ui.widgets.style import CNN, FG, MUTED, RNN

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView

TIP = ("Probability of each class over pen time. Top: the pen RNN after every pen step. Bottom:\n"
       "the CNN reading the drawing as it was at that step. Dashed: the first step from which the\n"
       "answer stays right for good ('when did it know?').")
PADDING = 0.02          # room around the x range, as a fraction of it on each side
Y_TOP = 1.02            # the y range is 0..Y_TOP: a curve at 1 stays clear of the top edge
SHORT_RUN = 8           # runs this short are drawn from point lists (a numpy-backed polygon costs ~70 us)
KNEW_AT = 0.92          # height of the 'knew' label along its line (0: bottom, 1: top)


class ClassPlot(PaintedPlot):
    """P(class) of one reader over pen steps: ten curves and the 'knew' line."""

    def __init__(self, colour: str, bottom: str | None) -> None:
        super().__init__("", bottom, "P", TIP)
        self.setMinimumSize(90, 90)
        self.set_y_range(0.0, Y_TOP)
        self.set_y_ticks([(0, "0"), (0.5, ".5"), (1, "1")])
        self.pens = [QtGui.QPen(QtGui.QColor(c), 1.5) for c in CLASS_COLOURS]
        self.knew_pen = QtGui.QPen(QtGui.QColor(colour), 2, QtCore.Qt.PenStyle.DashLine)
        self.knew_colour = QtGui.QColor(colour)
        self.knew_fill = QtGui.QColor(255, 255, 255, 200)
        self.steps = np.zeros(0, np.float64)                    # x: pen steps (from 1)
        self.probs = np.zeros((0, len(CLASS_COLOURS)), np.float32)   # (T, 10), NaN rows: not computed yet
        self.knew_at: float | None = None                       # x of the 'knew' line, None: hidden
        # the curves drawn so far, kept in an image: a pen step draws its own segments only
        self.layer = DataLayer()
        self._drawn = self.probs.copy()                         # what the layer shows
        self._label: QtGui.QPixmap | None = None

    def set_span(self, span: int) -> None:
        """The x axis over pen steps 1..span."""
        pad = PADDING * (span - 1)
        if self.set_x_range(1 - pad, span + pad):
            dense_ticks(self)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        dense_ticks(self)

    def set_data(self, x: np.ndarray, probs: np.ndarray, knew_at: float | None) -> None:
        self.steps, self.probs, self.knew_at = x, probs, knew_at
        self.update()

    def paint_data(self, p: QtGui.QPainter) -> None:
        key = (self.x_range(), self.y_range())
        rows = None if self.layer.stale(self, key) else self._undrawn()
        if rows is None:                        # new axes, or a step already drawn changed (undo, new drawing)
            self.layer.reset()
        if rows is None or rows.any():
            layer, _ = self.layer.begin(self, key)
            layer.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)   # antialiased polylines cost ~10x in software
            n = len(self._drawn)
            tail = self.probs[max(n - 1, 0):]
            if rows is not None and n > 0 and not rows[:n].any() and not np.isnan(tail[:, 0]).any():
                self._draw_span(layer, n - 1, len(self.probs))      # the usual pen step: one short span
            else:
                self.draw_curves(layer, rows)
            layer.end()
            self._drawn = self.probs.copy()
        self.layer.blit(p, self)
        if self.knew_at is not None:
            r = self.data_rect()
            x = float(self.px_x(self.knew_at))
            p.setPen(self.knew_pen)
            p.drawLine(QtCore.QPointF(x, r.top()), QtCore.QPointF(x, r.bottom()))

    def _undrawn(self) -> np.ndarray | None:
        """The rows the layer does not show yet (bool per row): the new ones and those computed
        since (NaN before: the CNN fills in steps it skipped, anywhere in the drawing); None when
        a row it shows has changed."""
        old, new = self._drawn, self.probs
        n = len(old)
        if len(new) < n:
            return None
        rows = np.zeros(len(new), bool)
        rows[n:] = True
        if np.array_equal(old, new[:n], equal_nan=True):      # the usual pen step: rows added at the end
            return rows
        was = np.isnan(old[:, 0])                              # a row is computed whole or not at all
        if not ((old == new[:n]) | was[:, None]).all():
            return None
        rows[:n] = was & ~np.isnan(new[:n, 0])
        return rows

    def draw_curves(self, p: QtGui.QPainter, rows: np.ndarray | None = None) -> None:
        """The ten curves in pixels; with ``rows`` (bool per row), only their segments that touch
        those rows (and those rows' lone points): what a layer showing the others lacks."""
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        t = len(self.steps)
        if t == 0:
            return
        ok = ~np.isnan(self.probs[:, 0])
        todo = np.ones(t, bool) if rows is None else rows
        seg = ok[:-1] & ok[1:] & (todo[:-1] | todo[1:])                  # segment i -> i + 1
        edges = np.flatnonzero(np.diff(np.concatenate([[0], seg.astype(np.int8), [0]])))
        spans = [(a, b + 1) for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)]   # rows a..b
        alone = ok & todo & ~np.concatenate([[False], ok[:-1]]) & ~np.concatenate([ok[1:], [False]])
        spans += [(i, i + 1) for i in np.flatnonzero(alone).tolist()]
        if not spans:
            return
        for a, b in spans:
            self._draw_span(p, a, b)

    def _draw_span(self, p: QtGui.QPainter, a: int, b: int) -> None:
        """The ten curves over rows a..b - 1 (all computed; one row: a point)."""
        xs = self.px_x(self.steps[a:b])
        ys = self.px_y(self.probs[a:b])                                    # (b - a, 10) pixels
        n = b - a
        if n == 1:
            for k, pen in enumerate(self.pens):
                p.setPen(pen)
                p.drawPoint(QtCore.QPointF(float(xs[0]), float(ys[0, k])))
        elif n <= SHORT_RUN:                    # a pen step's few segments: no numpy-backed polygon
            xl = xs.tolist()
            for k, pen in enumerate(self.pens):
                p.setPen(pen)
                p.drawPolyline([QtCore.QPointF(u, v) for u, v in zip(xl, ys[:, k].tolist(), strict=True)])
        else:                                   # one polygon, its y column refilled per class
            poly = pgf.create_qpolygonf(n)
            xy = pgf.ndarray_from_qpolygonf(poly)
            xy[:, 0] = xs
            for k, pen in enumerate(self.pens):
                p.setPen(pen)
                xy[:, 1] = ys[:, k]
                p.drawPolyline(poly)

    def paint_overlay(self, p: QtGui.QPainter) -> None:
        if self.knew_at is None:
            return
        r = self.data_rect()
        x = float(self.px_x(self.knew_at))
        if not r.left() <= x <= r.right():
            return
        label = self._knew_label()
        h = label.height() / label.devicePixelRatio()
        p.drawPixmap(QtCore.QPointF(x + 2, r.bottom() - KNEW_AT * r.height() - h / 2), label)

    def _knew_label(self) -> QtGui.QPixmap:
        """'knew' on a translucent white box, drawn once (a text and a blended fill per paint cost ~35 us)."""
        dpr = self.devicePixelRatioF()
        if self._label is None or self._label.devicePixelRatio() != dpr:
            _, w, h = self.texts.get("knew", self.label_font)
            pm = QtGui.QPixmap(max(1, round((w + 2) * dpr)), max(1, round(h * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(self.knew_fill)
            lp = QtGui.QPainter(pm)
            lp.setPen(self.knew_colour)
            lp.setFont(self.label_font)
            self.texts.draw(lp, 1, 0, "knew", self.label_font)
            lp.end()
            self._label = pm
        return self._label

    def tooltip_at(self, x: float, y: float) -> str | None:
        """The two likeliest classes at the pen step under the mouse."""
        k = int(round(x)) - 1
        if not 0 <= k < len(self.steps) or np.isnan(self.probs[k]).any():
            return None
        top = np.argsort(self.probs[k])[::-1][:2]
        return f"pen step {k + 1}: " + " · ".join(f"{int(c)}: {100 * float(self.probs[k, c]):.0f} %" for c in top)


class PenTimePanel(QtWidgets.QFrame):
    """``show_view(frame)``; ``target`` combo: "its last answer" or a digit."""

    target_changed = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.target = QtWidgets.QComboBox()
        self.target.addItem("its last answer", -1)
        for d in range(10):
            self.target.addItem(str(d), d)
        self.target.setToolTip("What 'right' means for 'when did it know?': the digit you meant, or\n"
                               "each reader's own last answer")
        self.target.currentIndexChanged.connect(lambda _: self.target_changed.emit(int(self.target.currentData())))
        self.target.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)   # 'its last answer' whole
        is_label = QtWidgets.QLabel("the digit is")
        is_label.setMinimumWidth(1)
        head, self.help_button = panel_header("over pen time", "time", compact=True)
        target_row = QtWidgets.QHBoxLayout()      # its own row: the panel fits a 240 px column at 1024x640
        target_row.setContentsMargins(0, 0, 0, 0)
        target_row.addWidget(is_label)
        target_row.addWidget(self.target)
        target_row.addStretch(1)
        # the two plots on one white sheet, each under its reader's title in the reader's colour
        self.view = QtWidgets.QWidget()
        self.view.setAutoFillBackground(True)
        pal = self.view.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("white"))
        self.view.setPalette(pal)
        self.view.setMinimumWidth(90)         # two readable plots (their own minimum heights); the folded tabs under it take the rest
        sheet = QtWidgets.QVBoxLayout(self.view)
        sheet.setContentsMargins(0, 4, 0, 0)
        sheet.setSpacing(0)
        self.plots: dict[str, ClassPlot] = {}
        self.titles: dict[str, QtWidgets.QLabel] = {}
        for key, title, colour in (("pen", "pen RNN (the pen)", RNN), ("cnn", "CNN (picture so far)", CNN)):
            label = QtWidgets.QLabel(f"<span style='color:{colour}; font-size:9pt'><b>{title}</b></span>")
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            label.setMinimumWidth(1)
            plot = ClassPlot(colour, "pen step" if key == "cnn" else None)
            sheet.addWidget(label)
            sheet.addWidget(plot, 1)
            self.titles[key], self.plots[key] = label, plot
        # compact (8 pt, the square joined to its digit): the ten fit one line of the column at 1024 px
        self.legend = QtWidgets.QLabel("<span style='font-size:8pt'>" + " ".join(
            f"<span style='color:{c}'>■</span>{k}" for k, c in enumerate(CLASS_COLOURS)) + "</span>")
        self.legend.setToolTip("curve colour of each class")
        self.legend.setWordWrap(True)
        self.legend.setMinimumWidth(1)
        self.readout = WrappedRichLabel()       # a new text asks for no new layout
        self.readout.setMinimumWidth(1)
        # it fills its own background (the window colour around it): a new text repaints it alone,
        # not the splitter, tab pane and window behind it
        self.readout.setAutoFillBackground(True)
        self.readout.setFixedHeight(2 * self.readout.fontMetrics().lineSpacing() + 8)   # new text: no relayout
        self.setToolTip(TIP)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addLayout(target_row)
        lay.addWidget(self.readout)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.legend)
        self._x = np.zeros(0, np.float64)
        self._shown_len = -1
        self.show_view(None)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        # the class key wraps in a narrow column: its lines count in the panel's minimum height, or
        # a squeezed layout would lay it over the plot's 'pen step' label
        super().resizeEvent(ev)
        lay = self.layout()
        margins = lay.contentsMargins() if lay is not None else QtCore.QMargins()
        need = self.legend.heightForWidth(max(1, ev.size().width() - margins.left() - margins.right()))
        if need > 0 and need != self.legend.minimumHeight():
            self.legend.setMinimumHeight(need)

    def set_target(self, target: int | None) -> None:
        i = self.target.findData(-1 if target is None else int(target))
        if i >= 0 and i != self.target.currentIndex():
            self.target.setCurrentIndex(i)

    def show_view(self, frame: PenView | None) -> None:
        t = 0 if frame is None else frame.steps
        if t == 0:
            for plot in self.plots.values():
                plot.set_data(np.zeros(0), np.zeros((0, len(CLASS_COLOURS)), np.float32), None)
            note = None if frame is None else frame.note
            self.readout.setText(f"<span style='color:{MUTED}'>{note or 'draw a digit: both readers follow every pen movement'}</span>")
            if self._shown_len < 0:
                self._span(20)
            return
        assert frame is not None
        if len(self._x) < t:
            self._x = np.arange(1, max(t, 2 * len(self._x), 64) + 1, dtype=np.float64)   # pen steps count from 1
        x = self._x[:t]
        self._span(max(20, -(-t // 20) * 20))          # the axis moves in steps of 20 pen steps, not every step
        for key, probs, at in (("pen", frame.pen, frame.knew_pen), ("cnn", frame.cnn, frame.knew_cnn)):
            self.plots[key].set_data(x, probs, None if at is None else float(at + 1))
        text = self._readout(frame)
        if text != self.readout.text():
            self.readout.setText(text)

    def _span(self, span: int) -> None:
        if span != self._shown_len:
            self._shown_len = span
            for plot in self.plots.values():
                plot.set_span(span)

    @staticmethod
    def _readout(frame: PenView) -> str:
        def now(probs: np.ndarray, colour: str, name: str) -> str:
            p = probs[-1]
            if np.isnan(p).any():
                return f"<span style='color:{colour}'>{name}: …</span>"
            k = int(np.argmax(p))
            return f"<span style='color:{colour}'>{name} <b style='font-size:13pt'>{k}</b> {100 * p[k]:.0f} %</span>"

        def knew(at: int | None, missing: bool) -> str:
            if missing:
                return "…"
            return "not yet" if at is None else str(at + 1)
        t = frame.steps
        return (f"{now(frame.pen, RNN, 'pen RNN')} &nbsp; {now(frame.cnn, CNN, 'CNN')} &nbsp; "
                f"<span style='color:{FG}'>knew at step: {knew(frame.knew_pen, False)} · "
                f"{knew(frame.knew_cnn, frame.cnn_missing > 0)} (of {t})</span>")


def demo() -> PenTimePanel:
    """The panel on the demo '7' read by the shipped pen LSTM and CNN (or untrained ones)."""
    from explorer.ui.digit.demo import demo_pen_view
    panel = PenTimePanel()
    panel.show_view(demo_pen_view())
    panel.resize(520, 380)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
