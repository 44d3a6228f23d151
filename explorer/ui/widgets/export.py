"""Export helpers: a widget to PNG, arrays to .npz (both written atomically)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6 import QtGui, QtWidgets

from explorer.atomic import atomic_write_via_name


def _atomic(path: Path, write: Callable[[str], object]) -> None:
    """Raises OSError (with the folder named) when the place cannot be written; then nothing
    on disk changed (callers in the GUI report it: explorer.ui.report.guarded)."""
    if path.parent.exists() and not path.parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{path.parent} is a file, not a folder", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_via_name(path, write)


def save_image(image: QtGui.QImage | QtGui.QPixmap, path: str | os.PathLike[str]) -> Path:
    """QImage / QPixmap -> PNG at ``path``; raises OSError if Qt cannot write it."""
    path = Path(path)

    def write(tmp: str) -> None:
        if not image.save(tmp, "PNG"):
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
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})

    _atomic(path, write)
    return path
