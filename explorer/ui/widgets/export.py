"""Export helpers: a widget to PNG, arrays to .npz (both written atomically)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtGui, QtWidgets

from explorer.atomic import atomic_write_via_name


def _atomic(path: Path, write: Callable[[str], object]) -> None:
    """Raises OSError (with the folder named) when the place cannot be written; then nothing
    on disk changed (callers in the GUI report it: explorer.ui.widgets.report.guarded)."""
    if path.parent.exists() and not path.parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{path.parent} is a file, not a folder", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_via_name(path, write)


def save_image(image: QtGui.QImage | QtGui.QPixmap, path: str | os.PathLike[str]) -> Path:
    """QImage / QPixmap -> PNG at ``path``; raises OSError if Qt cannot write it."""
    path = Path(path)

    def write(tmp: str) -> None:
        if not image.save(tmp, "PNG"):  # type: ignore[call-overload]  # QImage's stub wants bytes, QPixmap's str
            raise OSError(f"could not write {path}")

    _atomic(path, write)
    return path


def grab_png(widget: QtWidgets.QWidget, path: str | os.PathLike[str]) -> Path:
    """Render ``widget`` (as on screen, children included) to a PNG file."""
    return save_image(widget.grab(), path)


def save_npz(arrays: dict[str, np.ndarray], path: str | os.PathLike[str]) -> Path:
    """name -> array to an uncompressed .npz (loadable with allow_pickle=False)."""
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
            np.savez(fh, **named)

    _atomic(path, write)
    return path


# -- SVG and CSV: vector pictures for print, numbers for a spreadsheet ---------------------------
def save_svg(widget: QtWidgets.QWidget, path: str | os.PathLike[str]) -> Path:
    """A panel as SVG: pyqtgraph's SVGExporter when the panel is one plot scene, otherwise the
    widget painted into a QSvgGenerator (text and lines stay vectors, images stay pixels)."""
    import pyqtgraph as pg
    path = Path(path)
    views = [widget] if isinstance(widget, pg.GraphicsView) else widget.findChildren(pg.GraphicsView)

    def write(tmp: str) -> None:
        if len(views) == 1 and views[0].size() == widget.size():
            from pyqtgraph.exporters import SVGExporter
            SVGExporter(views[0].scene()).export(fileName=tmp)
            return
        from PySide6 import QtCore, QtSvg
        gen = QtSvg.QSvgGenerator()
        gen.setFileName(tmp)
        gen.setSize(widget.size())
        gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), widget.size()))
        gen.setTitle(widget.objectName() or type(widget).__name__)
        painter = QtGui.QPainter(gen)
        try:
            widget.render(painter, QtCore.QPoint(0, 0))
        finally:
            painter.end()

    _atomic(path, write)
    return path


def save_csv(matrix: np.ndarray, path: str | os.PathLike[str], header: list[str] | None = None,
             labels: list[list[str]] | None = None) -> Path:
    """A 2-D array as CSV (UTF-8), with an optional header row and leading label cells per row."""
    import csv
    path = Path(path)
    matrix = np.atleast_2d(np.asarray(matrix))

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            if header is not None:
                out.writerow(header)
            for i, row in enumerate(matrix):
                cells = [f"{v:.7g}" for v in row.tolist()]
                out.writerow((labels[i] if labels is not None else []) + cells)

    _atomic(path, write)
    return path
