"""MosaicPanel: C maps of one layer tiled into ONE image, titled, clickable.

One image per layer (not one per map) keeps a frame to a single blit per panel. The tiles
are separated by a 1-cell gap and outlined by thin grey frames.

Colour is applied here, in numpy, through the colour map's 256-entry table packed as 32-bit
0xffRRGGBB pixels, written into a buffer that a QImage wraps (no copy, no upload): an RGB32
image is the raster engine's fastest scaled blit (measured on the project machine, an
Indexed8 image with a LUT cost ~8x, an RGBX8888 one ~2.5x).

Why a plain QWidget and not a pyqtgraph view: a QGraphicsView applies its scene's changes in
a queued call of its own, so after a pen move each layer map painted in a window update of
its own (seven in a row); a widget's ``update()`` joins the window repaint every other panel
is part of. It draws what the view drew: the image scaled with its aspect kept (centred, 2 %
padding), the tile frames, the pool-winner mask, the selection rectangle and the crossed /
outlined tiles of the edit panel; in a MosaicPanel, also the panel's header line (its title and
the scale note, which changes with the drawing): painted here, a new note costs no label of its
own to repaint and no layout (a QLabel's new text asked the column for a new layout on every
pen move, and its new width moved the title beside it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.colors import LEVELS, diverging
from explorer.ui.widgets.painted_plot import argb_table
from explorer.ui.widgets.style import MUTED

GAP = (226, 227, 232, 255)        # between tiles
MASK = (0, 0, 0, 120)             # darkening of masked cells
PADDING = 0.02                    # room around the mosaic, as a fraction of its size on each side
MARGIN = 1                        # px between the widget's edge and that room
FRAME = (120, 120, 120)           # tile outlines
SELECTION = (255, 170, 0)         # the selected cell(s) or receptive field
HEAD_INSET = 4                    # px between the view's sides and the header's texts
HEAD_SPACING = 6                  # px between the title and the note
NOTE_ALIGN = int((QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter).value)


def tile_layout(n: int, cols: int, h: int, w: int, gap: int = 1) -> tuple[int, int]:
    """n tiles of (h, w) in ``cols`` columns -> mosaic (height, width) with gaps."""
    rows = -(-n // cols)
    return rows * (h + gap) - gap, cols * (w + gap) - gap


def _premultiplied(rgba: tuple[int, int, int, int]) -> np.uint32:
    """One colour with alpha -> 0xAARRGGBB premultiplied (QImage.Format_ARGB32_Premultiplied)."""
    r, g, b, a = rgba
    return np.uint32((a << 24) | (r * a // 255 << 16) | (g * a // 255 << 8) | (b * a // 255))


class MosaicView(QtWidgets.QWidget):
    """The graphics part: tiles maps (C, H, W) into one image with fixed levels, painted by hand."""

    cell_clicked = QtCore.Signal(int, int, int)          # channel, row, col
    cell_double_clicked = QtCore.Signal(int, int, int)   # the second click of a double-click (not a click)

    def __init__(self, n: int, h: int, w: int, cols: int, cmap: pg.ColorMap | None = None,
                 levels: tuple[float, float] = LEVELS, gap: int = 1,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.n, self.h, self.w, self.cols, self.gap = n, h, w, max(1, min(cols, n)), gap
        self.levels = levels
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        # opaque: it fills its background itself (the window colour the panels around it show), so a
        # new frame repaints this widget alone, not the column, scroll area and tab pane behind it
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)
        H, W = tile_layout(n, self.cols, h, w, gap)
        self._size = (W, H)
        lut = (cmap or diverging()).getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint32)
        self._lut = argb_table(lut)                                  # (256,) 0xffRRGGBB
        self.values = np.zeros((n, h, w), np.float32)          # last maps shown (scaled)
        # one 32-bit pixel per cell, whole tile rows of (h + gap) x (w + gap): every tile is one
        # strided view of the buffer, so a frame colours all maps in one numpy assignment
        rows = -(-n // self.cols)
        self._buf = np.full((rows * (h + gap), self.cols * (w + gap)), argb_table(np.array([GAP[:3]]))[0], np.uint32)
        self._tiles = self._buf.reshape(rows, h + gap, self.cols, w + gap)[:, :h, :, :w]
        # the images wrap the buffers (painted straight from them: a new frame only rewrites pixels)
        self._image = QtGui.QImage(self._buf.data, W, H, self._buf.strides[0], QtGui.QImage.Format.Format_RGB32)
        self._mask = np.zeros_like(self._buf)                   # premultiplied ARGB, 0: clear
        self._mask_tiles = self._mask.reshape(rows, h + gap, self.cols, w + gap)[:, :h, :, :w]
        self._mask_image = QtGui.QImage(self._mask.data, W, H, self._mask.strides[0],
                                        QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        self._mask_shown = False
        self._selected: QtCore.QRectF | None = None            # in mosaic cells
        self.frames = QtGui.QPainterPath()                     # every tile's outline, in mosaic cells
        for c in range(n):
            y, x = self._origin(c)
            self.frames.addRect(QtCore.QRectF(x, y, w, h))
        self.frame_pen = pg.mkPen(FRAME, width=1, cosmetic=True)
        self.selection_pen = pg.mkPen(SELECTION, width=2.5, cosmetic=True)
        self.crossed_marks: QtGui.QPainterPath | None = None   # mark_tiles' paths (first call on)
        self.outlined_marks: QtGui.QPainterPath | None = None
        self.cross_pen, self.outline_pen = QtGui.QPen(), QtGui.QPen()
        self._map: tuple[QtCore.QSize, float, float, float] | None = None     # size -> scale, x0, y0
        # the header line above the mosaic (MosaicPanel): title (rich text), note (plain, muted)
        self._has_header = False
        self._title = ""
        self._note = ""
        self._title_text: QtGui.QStaticText | None = None      # laid out once per title and font
        self._head_paint: tuple[QtCore.QPointF, float, QtGui.QColor, QtGui.QColor] | None = None
        self._head = 0                                         # px of the header line (0: none)

    # -- size --------------------------------------------------------------------------------
    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return QtCore.QSize(600, 480 + self._head)   # what the pyqtgraph view it replaces asked for

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return QtCore.QSize(68, 68 + self._head)

    # -- the header line ---------------------------------------------------------------------
    def set_title(self, html: str) -> None:
        """Show a header line above the mosaic with this title (rich text, left; clipped before
        the note when narrow), as tall as a QLabel showing it."""
        if self._has_header and html == self._title:
            return
        self._has_header, self._title = True, html
        self._fit_header()
        self.update()

    def title(self) -> str:
        return self._title

    def set_note(self, text: str) -> None:
        """The header's note (plain text, muted, right-aligned at its full width); repaints
        the header line alone."""
        if text == self._note:
            return
        self._note = text
        if self._has_header:
            self.update(0, 0, self.width(), self._head)

    def note(self) -> str:
        return self._note

    def header_height(self) -> int:
        """Pixels above the mosaic's area taken by the header line (0: no header)."""
        return self._head

    def _fit_header(self) -> None:
        """Lay the title out (once per title and font) and size the header line to it."""
        self._head_paint = None
        if not self._has_header:
            return
        st = QtGui.QStaticText(self._title)
        st.setTextFormat(QtCore.Qt.TextFormat.RichText)
        option = st.textOption()
        option.setWrapMode(QtGui.QTextOption.WrapMode.NoWrap)          # one line, as a QLabel's
        st.setTextOption(option)
        st.prepare(QtGui.QTransform(), self.font())
        self._title_text = st
        head = max(int(np.ceil(st.size().height())), self.fontMetrics().height())
        if head != self._head:
            self._head = head
            self._map = None
            self.updateGeometry()

    def _header_paint(self) -> tuple[QtCore.QPointF, float, QtGui.QColor, QtGui.QColor]:
        """(title position, title's right edge, note colour, title colour), kept until the
        title, font or palette change (a paint then costs a few calls)."""
        if self._head_paint is None:
            size = self._title_text.size() if self._title_text is not None else QtCore.QSizeF()
            self._head_paint = (QtCore.QPointF(HEAD_INSET, (self._head - size.height()) / 2),
                                HEAD_INSET + size.width(), QtGui.QColor(MUTED),
                                self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        return self._head_paint

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() == QtCore.QEvent.Type.FontChange:
            self._fit_header()
        elif ev.type() == QtCore.QEvent.Type.PaletteChange:
            self._head_paint = None
        super().changeEvent(ev)

    def _mapping(self) -> tuple[float, float, float]:
        """(scale, x0, y0): mosaic cell (x, y) -> widget pixel (x0 + x * scale, y0 + y * scale),
        the mosaic centred with its aspect kept and PADDING of its size around it."""
        size = self.size()
        if self._map is None or self._map[0] != size:
            W, H = self._size
            aw, ah = max(size.width() - 2 * MARGIN, 1), max(size.height() - self._head - 2 * MARGIN, 1)
            s = min(aw / (W * (1 + 2 * PADDING)), ah / (H * (1 + 2 * PADDING)))
            self._map = (QtCore.QSize(size), s, MARGIN + (aw - W * s) / 2, self._head + MARGIN + (ah - H * s) / 2)
        return self._map[1], self._map[2], self._map[3]

    def _origin(self, c: int) -> tuple[int, int]:
        r, k = divmod(c, self.cols)
        return r * (self.h + self.gap), k * (self.w + self.gap)

    # -- what is shown -----------------------------------------------------------------------
    def _scatter(self, tiles: np.ndarray, px: np.ndarray) -> None:
        """(C, h, w) pixels into the tiles (a strided view of a buffer), all tiles at once."""
        full, rest = divmod(self.n, self.cols)
        if full:
            tiles[:full] = px[: full * self.cols].reshape(full, self.cols, self.h, self.w).transpose(0, 2, 1, 3)
        if rest:
            tiles[full, :, :rest] = px[full * self.cols:].transpose(1, 0, 2)

    def show_maps(self, maps: np.ndarray) -> None:
        """maps: (C, H, W) already scaled to ``levels`` -> colour table -> the image's pixels."""
        lo, hi = self.levels
        self.values = np.ascontiguousarray(maps, np.float32)
        idx = np.clip((self.values - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
        self._scatter(self._tiles, self._lut[idx])             # (C, H, W) 0xffRRGGBB
        self.update()

    def mosaic_image(self) -> QtGui.QImage:
        """What the mosaic shows, one pixel per cell (RGB32, a copy)."""
        return self._image.copy()

    def show_mask(self, mask: np.ndarray | None) -> None:
        """mask: (C, H, W) bool -> darken those cells (None hides the overlay)."""
        if mask is None:
            if self._mask_shown:
                self._mask_shown = False
                self.update()
            return
        self._scatter(self._mask_tiles, np.where(np.asarray(mask, bool), _premultiplied(MASK), np.uint32(0)))
        self._mask_shown = True
        self.update()

    def mask_shown(self) -> bool:
        return self._mask_shown

    def select(self, channel: int, r0: int, c0: int, r1: int | None = None, c1: int | None = None) -> None:
        """Outline cells r0..r1 × c0..c1 (inclusive) of tile ``channel``; channel < 0 hides."""
        if channel < 0:
            rect = None
        else:
            r1 = r0 if r1 is None else r1
            c1 = c0 if c1 is None else c1
            y, x = self._origin(channel)
            rect = QtCore.QRectF(x + c0, y + r0, c1 - c0 + 1, r1 - r0 + 1)
        if rect != self._selected:
            self._selected = rect
            self.update()

    def selected_rect(self) -> QtCore.QRectF | None:
        """The outlined cells in mosaic cells (x = column, y = row across the tiles), None: none."""
        return None if self._selected is None else QtCore.QRectF(self._selected)

    def mark_tiles(self, crossed: Iterable[int], outlined: Iterable[int],
                   cross_pen: QtGui.QPen, outline_pen: QtGui.QPen) -> None:
        """Cross out the tiles ``crossed`` and outline the tiles ``outlined`` (tiles out of range
        are skipped), with these pens; new marks replace the old ones."""
        off, other = QtGui.QPainterPath(), QtGui.QPainterPath()
        for c in crossed:
            if 0 <= c < self.n:
                y, x = self._origin(c)
                off.addRect(QtCore.QRectF(x, y, self.w, self.h))
                off.moveTo(x, y)
                off.lineTo(x + self.w, y + self.h)
                off.moveTo(x + self.w, y)
                off.lineTo(x, y + self.h)
        for c in outlined:
            if 0 <= c < self.n:
                y, x = self._origin(c)
                other.addRect(QtCore.QRectF(x, y, self.w, self.h))
        self.crossed_marks, self.outlined_marks = off, other
        self.cross_pen, self.outline_pen = QtGui.QPen(cross_pen), QtGui.QPen(outline_pen)
        self.update()

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        s, x0, y0 = self._mapping()
        W, H = self._size
        target = QtCore.QRectF(x0, y0, W * s, H * s)
        p = QtGui.QPainter(self)
        p.fillRect(ev.rect(), self.palette().color(QtGui.QPalette.ColorRole.Window))
        if self._head and ev.rect().top() < self._head:
            self._paint_header(p)
        p.drawImage(target, self._image)                       # nearest neighbour: one cell, one block
        if self._mask_shown:
            p.drawImage(target, self._mask_image)
        # the outlines in mosaic cells, their pens cosmetic (pixel widths)
        p.setTransform(QtGui.QTransform(s, 0.0, 0.0, s, x0, y0))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(self.frame_pen)
        p.drawPath(self.frames)
        if self._selected is not None:
            p.setPen(self.selection_pen)
            p.drawRect(self._selected)
        if self.crossed_marks is not None and self.outlined_marks is not None:
            p.setPen(self.cross_pen)
            p.drawPath(self.crossed_marks)
            p.setPen(self.outline_pen)
            p.drawPath(self.outlined_marks)
        p.end()

    def _paint_header(self, p: QtGui.QPainter) -> None:
        """The title at the left, the note at the right (its full width), both centred in the line."""
        at, title_right, muted, fg = self._header_paint()
        right = float(self.width() - HEAD_INSET)
        if self._note:
            # a new note nearly every frame: drawn as plain text (shaped once, where it is drawn),
            # not laid out as a QStaticText
            p.setPen(muted)
            right = p.drawText(QtCore.QRectF(0, 0, right, self._head), NOTE_ALIGN, self._note).left() - HEAD_SPACING
        if self._title_text is not None and self._title:
            p.setPen(fg)
            if title_right <= right:
                p.drawStaticText(at, self._title_text)
            elif right > HEAD_INSET:                   # narrow: the title stops before the note
                p.save()
                p.setClipRect(QtCore.QRectF(0, 0, right, self._head), QtCore.Qt.ClipOperation.IntersectClip)
                p.drawStaticText(at, self._title_text)
                p.restore()

    # -- mouse -------------------------------------------------------------------------------
    def cell_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """Mosaic coordinates -> (channel, row, col), None in a gap or outside."""
        if x < 0 or y < 0:
            return None
        tr, ir = divmod(int(y), self.h + self.gap)
        tc, ic = divmod(int(x), self.w + self.gap)
        c = tr * self.cols + tc
        if ir >= self.h or ic >= self.w or tc >= self.cols or c >= self.n:
            return None
        return c, ir, ic

    def mosaic_at(self, pos: QtCore.QPointF) -> tuple[float, float]:
        """Widget position -> mosaic coordinates (x = column, y = row across the tiles)."""
        s, x0, y0 = self._mapping()
        return (pos.x() - x0) / s, (pos.y() - y0) / s

    def pos_of(self, channel: int, row: int, col: int) -> QtCore.QPointF:
        """Centre of a cell in widget coordinates (tests click there)."""
        s, x0, y0 = self._mapping()
        y, x = self._origin(channel)
        return QtCore.QPointF(x0 + (x + col + 0.5) * s, y0 + (y + row + 0.5) * s)

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            hit = self.cell_at(*self.mosaic_at(ev.position()))
            if hit is not None:
                self.cell_clicked.emit(*hit)
                ev.accept()
                return
        super().mousePressEvent(ev)

    def mouseDoubleClickEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        # Qt's default would press again: a double-click is one click and one double-click
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            hit = self.cell_at(*self.mosaic_at(ev.position()))
            if hit is not None:
                self.cell_double_clicked.emit(*hit)
                ev.accept()
                return
        super().mouseDoubleClickEvent(ev)


class HeaderText:
    """The title or the note of a MosaicPanel's header line, read and set as a QLabel's text
    (the panel's view paints them)."""

    def __init__(self, read: Callable[[], str], write: Callable[[str], None]) -> None:
        self._read, self._write = read, write

    def text(self) -> str:
        return self._read()

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        self._write(text)


class MosaicPanel(QtWidgets.QFrame):
    """Title ('conv1 · 8 × 28×28'), scale note and a MosaicView; tooltip says how to read it.

    The title and the note are painted by the view in its header line (see MosaicView);
    ``title`` and ``note`` read and set them as a QLabel's text."""

    def __init__(self, title: str, tooltip: str, n: int, h: int, w: int, cols: int,
                 cmap: pg.ColorMap | None = None, levels: tuple[float, float] = LEVELS,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.view = MosaicView(n, h, w, cols, cmap, levels)
        self.view.set_title(f"<b>{title}</b>")
        self.title = HeaderText(self.view.title, self.view.set_title)
        self.note = HeaderText(self.view.note, self.view.set_note)
        self.setToolTip(tooltip)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(0)
        lay.addWidget(self.view, 1)
        H, W = tile_layout(n, self.view.cols, h, w)
        self.aspect = W / H

    def set_note(self, text: str) -> None:
        self.view.set_note(text)
