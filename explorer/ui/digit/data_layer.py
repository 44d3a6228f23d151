"""DataLayer: an image of a plot's data area that keeps what was drawn into it between paints.

A pen move adds one pen step to a curve or a path; drawing every step again on each paint
costs in proportion to the drawing (ten wide polylines of a few hundred points are ~3 ms in
the software rasteriser). A plot draws its data into this layer instead, only the steps not
drawn yet, and each paint blits the layer (an opaque RGB32 image: the raster engine's fastest
blit). Whatever the layer depends on (the data area, the ranges, the pixel ratio, a static
backdrop) goes in its key: a new key starts it afresh, white.
"""

from __future__ import annotations

from PySide6 import QtGui

from explorer.ui.widgets.painted_plot import PaintedPlot


class DataLayer:
    """``begin(plot, key)`` -> (painter in widget coordinates, fresh); ``blit(p, plot)``."""

    def __init__(self) -> None:
        self.image: QtGui.QImage | None = None
        self.key: object = None

    def reset(self) -> None:
        """Forget what was drawn: the next ``begin`` starts afresh."""
        self.key = None

    def _full_key(self, plot: PaintedPlot, key: object) -> tuple[object, ...]:
        r = plot.data_rect()
        return (r.x(), r.y(), r.width(), r.height(), plot.devicePixelRatioF(), key)

    def stale(self, plot: PaintedPlot, key: object) -> bool:
        """Whether the next ``begin`` starts afresh (what was drawn no longer fits)."""
        return self.image is None or self._full_key(plot, key) != self.key

    def begin(self, plot: PaintedPlot, key: object) -> tuple[QtGui.QPainter, bool]:
        """A painter on the layer, mapped like the widget (clipped to the data area). ``fresh``:
        the layer was (re)started white, as ``key`` or the data area or pixel ratio changed;
        otherwise it holds what the last painters drew."""
        r, dpr = plot.data_rect(), plot.devicePixelRatioF()
        full = self._full_key(plot, key)
        fresh = self.image is None or full != self.key
        if fresh:
            w, h = max(1, round(r.width() * dpr)), max(1, round(r.height() * dpr))
            self.image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
            self.image.setDevicePixelRatio(dpr)
            self.image.fill(QtGui.QColor("white"))
            self.key = full
        assert self.image is not None
        p = QtGui.QPainter(self.image)
        p.translate(-r.left(), -r.top())
        p.setClipRect(r)
        return p, fresh

    def blit(self, p: QtGui.QPainter, plot: PaintedPlot) -> None:
        if self.image is not None:
            p.drawImage(plot.data_rect().topLeft(), self.image)
