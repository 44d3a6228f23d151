"""SteadySplitter: a splitter re-lays out only when what its layout reads has changed.

Qt passes a layout request up to the window after every label ``setText`` (``QLayout.activate``
always ends in ``updateGeometry``) even when no size hint changed, and the window's tab widget
answers a layout request by repainting itself whole: the prediction's text changing on every
pen move repainted the entire window (~17 ms) after each frame. A splitter's layout depends
only on each child's visibility, size hints, size limits and size policy; when none of them
changed, its layout request is dropped here and goes no further up. Any real change (a child
shown or hidden, a longer text that needs more room, a new minimum) passes as before.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def _signature(splitter: QtWidgets.QSplitter) -> tuple[object, ...]:
    out: list[object] = [splitter.count(), splitter.orientation()]
    for i in range(splitter.count()):
        w = splitter.widget(i)
        p = w.sizePolicy()
        out.append((id(w), w.isHidden(), w.minimumSizeHint().toTuple(), w.sizeHint().toTuple(),
                    w.minimumSize().toTuple(), w.maximumSize().toTuple(),
                    p.horizontalPolicy(), p.verticalPolicy(), p.horizontalStretch(), p.verticalStretch()))
    return tuple(out)


class SteadySplitter(QtCore.QObject):
    """Event filter on one QSplitter (``SteadySplitter(splitter)``; it is the filter's parent).

    ``passed`` / ``dropped``: layout requests let through / dropped (tests)."""

    def __init__(self, splitter: QtWidgets.QSplitter) -> None:
        super().__init__(splitter)
        self.splitter = splitter
        self.passed = 0
        self.dropped = 0
        self._last: tuple[object, ...] | None = None
        splitter.installEventFilter(self)

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if obj is not self.splitter or ev.type() != QtCore.QEvent.Type.LayoutRequest:
            return False
        sig = _signature(self.splitter)
        if sig == self._last:
            self.dropped += 1
            return True
        self._last = sig
        self.passed += 1
        return False
