"""KeepBar: keep the drawing as an example of a digit (keys 0-9 or a row of buttons).

Examples go to ``<app data>/my_digits/<label>/<name>.png`` with the strokes beside
(``explorer.data.examples``). While the model is unsure (top probability below
``UNSURE``), the bar says so and offers "keep as example of …". The window gives the bar its
folder (explorer.ui.shell.examples: one folder for the Digit Lab and the Train tab's fine-tuning).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.data.examples import Example, ExampleStore
from explorer.data.preprocess import EmptyDrawing, render_strokes
from explorer.errors import ExplorerError
from explorer.session.digits import DigitSession
from explorer.session.drawing import REF

UNSURE = 0.6
UNSURE_BG = "#fff4e0"                   # the unsure offer's background
DIGIT_KEYS = {getattr(QtCore.Qt.Key, f"Key_{d}"): d for d in range(10)}


class ElidedLabel(QtWidgets.QWidget):
    """One line of plain text, elided on the right when narrow; a new text repaints it and asks
    for no layout (its size hint is one line of any text)."""

    def __init__(self, background: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._background = QtGui.QColor(background)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)
        # it fills its own background (its frame's colour): a new text paints nothing behind it
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        if text != self._text:
            self._text = text
            self.update()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return QtCore.QSize(self.fontMetrics().horizontalAdvance("Unsure: 0 at 00% · keep as"), self.fontMetrics().height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return QtCore.QSize(self.fontMetrics().horizontalAdvance("…") + 4, self.fontMetrics().height())

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        p.fillRect(ev.rect(), self._background)
        p.setPen(self.palette().color(self.foregroundRole()))
        r = self.contentsRect()
        p.drawText(r, QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter,
                   self.fontMetrics().elidedText(self._text, QtCore.Qt.TextElideMode.ElideRight, r.width()))
        p.end()


class KeepBar(QtWidgets.QWidget):
    """``keep(label)`` saves the current drawing; ``handle_key(event)`` does it for keys 0-9."""

    kept = QtCore.Signal(object)            # the Example just written
    gallery_requested = QtCore.Signal()
    status = QtCore.Signal(str)

    def __init__(self, session: DigitSession, folder: str | Path | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store: ExampleStore | None = None
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        lab = QtWidgets.QLabel("keep as an example of")
        lab.setToolTip("Keep this drawing as an example of a digit (or press the digit key while\n"
                       "the Digits tab has focus). Examples teach the model your handwriting:\n"
                       "Train tab → Fine-tune on my examples.")
        # the header's label and the unsure offer share one slot (a stack is as tall as its tallest
        # page whichever shows): the model's confidence crossing UNSURE as the pen moves swaps
        # them in place, with no new layout of the column and no repaint beyond this slot
        self.head_stack = QtWidgets.QStackedWidget()
        self.head_stack.addWidget(lab)
        head.addWidget(self.head_stack, 1)
        self.gallery_btn = QtWidgets.QToolButton()
        self.gallery_btn.setText("gallery…")
        self.gallery_btn.setToolTip("Open the gallery of your examples: the model's reading of each, "
                                    "delete, re-label, import a folder, export")
        self.gallery_btn.clicked.connect(self.gallery_requested)
        head.addWidget(self.gallery_btn)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.buttons = []
        for d in range(10):
            b = QtWidgets.QToolButton()
            b.setText(str(d))
            b.setMinimumWidth(16)
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
            b.setToolTip(f"Keep the drawing as an example of {d} (key {d})")
            b.clicked.connect(lambda _=False, d=d: self.keep(d))
            row.addWidget(b)
            self.buttons.append(b)

        self.unsure = QtWidgets.QFrame()
        self.unsure.setStyleSheet(f"QFrame {{ background: {UNSURE_BG}; border-radius: 3px; }}")
        ul = QtWidgets.QHBoxLayout(self.unsure)
        ul.setContentsMargins(4, 2, 4, 2)
        self.unsure_text = ElidedLabel(UNSURE_BG)           # a new percentage asks for no new layout
        self.unsure_label = QtWidgets.QComboBox()
        self.unsure_label.addItems([str(d) for d in range(10)])
        self.unsure_label.setToolTip("What you meant to write")
        self.unsure_keep = QtWidgets.QToolButton()
        self.unsure_keep.setText("keep")
        self.unsure_keep.setToolTip("Keep the drawing as an example of the digit on the left")
        self.unsure_keep.clicked.connect(lambda: self.keep(int(self.unsure_label.currentText())))
        ul.addWidget(self.unsure_text, 1)
        ul.addWidget(self.unsure_label)
        ul.addWidget(self.unsure_keep)
        self.head_stack.addWidget(self.unsure)
        self.head_stack.setCurrentIndex(0)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addLayout(row)
        if folder is not None:
            self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        self.store = ExampleStore(folder)

    @property
    def folder(self) -> Path | None:
        return None if self.store is None else self.store.root

    def show_probs(self, probs: np.ndarray | None) -> None:
        """Say so when the model is unsure (top probability below ``UNSURE``)."""
        if probs is None or float(np.max(probs)) >= UNSURE:
            self.head_stack.setCurrentIndex(0)
            return
        top = int(np.argmax(probs))
        self.unsure_text.setText(f"Unsure: {top} at {float(probs[top]):.0%} · keep as")
        self.unsure_text.setToolTip(f"The model is not sure: {top} at only {float(probs[top]):.0%}.\n"
                                    "Keep this drawing as an example of the digit you meant.")
        self.unsure_label.setCurrentIndex(top)
        self.head_stack.setCurrentWidget(self.unsure)

    def drawing(self) -> tuple[list[np.ndarray] | None, np.ndarray]:
        """-> (pen strokes or None when an image is under them, (280, 280) ink image)."""
        state = self.session.state
        strokes = [np.asarray(s.points, np.float64) for s in state.strokes]
        ink = np.zeros((REF, REF), np.float32) if state.background is None else state.background.copy()
        for s in state.strokes:
            ink = np.maximum(ink, render_strokes([s.points], REF, s.width, supersample=2))
        return (strokes if state.background is None else None), ink

    def keep(self, label: int) -> Example | None:
        """Save the drawing as an example of ``label``; None (and a message) if it cannot be."""
        if self.store is None:
            self.status.emit("no folder for examples is set")
            return None
        if self.session.state.is_empty:
            self.status.emit("draw a digit first, then press its key to keep it")
            return None
        strokes, ink = self.drawing()
        try:
            ex = self.store.save(label, strokes, ink)
        except (ExplorerError, EmptyDrawing, OSError) as exc:
            self.status.emit(f"could not keep the example: {exc}")
            return None
        n = self.store.counts()[label]
        self.status.emit(f"kept as an example of {label} ({n} of {label}; {ex.path})")
        self.kept.emit(ex)
        return ex

    def handle_key(self, ev: QtGui.QKeyEvent) -> bool:
        """Keys 0-9 (no Ctrl/Alt) keep the drawing; -> True when handled."""
        mods = ev.modifiers() & ~(QtCore.Qt.KeyboardModifier.KeypadModifier | QtCore.Qt.KeyboardModifier.ShiftModifier)
        if mods != QtCore.Qt.KeyboardModifier.NoModifier or ev.key() not in DIGIT_KEYS:
            return False
        self.keep(DIGIT_KEYS[ev.key()])
        return True


def demo() -> KeepBar:
    """The keep bar for the demo '7' (a click keeps it in a temporary folder)."""
    from explorer.ui.digit.demo import demo_folder, demo_session
    session = demo_session()
    bar = KeepBar(session, demo_folder())
    frame = session.compute()
    bar.show_probs(None if frame is None else frame.probs)
    return bar


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
