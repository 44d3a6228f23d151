"""SteadySplitter: a splitter re-lays out only when what its layout reads has changed.

Qt passes a layout request up to the window after every label ``setText`` (``QLayout.activate``
always ends in ``updateGeometry``) even when no size hint changed, and the window's tab widget
answers a layout request by repainting itself whole: the prediction's text changing on every
pen move repainted the entire window (~17 ms) after each frame. A splitter's layout depends
only on each child's visibility, size hints, size limits and size policy; when none of them
changed, its layout request is dropped here and goes no further up (the splitter's own size
hint may then be stale: it only sizes a window that was never resized, not one on screen). Any real change (a child
shown or hidden, a longer text that needs more room, a new minimum) passes as before.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

_FLEX = QtWidgets.QSizePolicy.PolicyFlag.ShrinkFlag.value | QtWidgets.QSizePolicy.PolicyFlag.GrowFlag.value


def _signature(splitter: QtWidgets.QSplitter) -> tuple[object, ...]:
    """What the splitter's layout reads of its children. A child's size hint bounds it only in a
    direction its policy cannot shrink or grow in (Qt's qSmartMinSize / qSmartMaxSize); where it can
    do both, a new size hint (a longer text in a stretchable panel) moves nothing."""
    out: list[object] = [splitter.count(), splitter.orientation()]
    for i in range(splitter.count()):
        w = splitter.widget(i)
        assert w is not None                     # i < count()
        p = w.sizePolicy()
        hint = w.sizeHint()
        h, v = p.horizontalPolicy(), p.verticalPolicy()
        out.append((id(w), w.isHidden(), w.minimumSizeHint().toTuple(), w.minimumSize().toTuple(),
                    w.maximumSize().toTuple(), h, v, p.horizontalStretch(), p.verticalStretch(),
                    None if h.value & _FLEX == _FLEX else hint.width(),
                    None if v.value & _FLEX == _FLEX else hint.height()))
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
