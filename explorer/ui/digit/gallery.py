"""GalleryWindow: the user's kept examples, one row per digit, with the model's reading.

Each thumbnail is the stored 280 x 280 PNG; under it the model's current reading and its
probability. A reading that differs from the example's label is marked (red, ✗). Select
thumbnails to delete them or move them to another digit; import a ``<label>/<image>``
folder; export them all. ``reload()`` re-reads the folder (after the model changes too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.data.examples import Example, ExampleStore, example_input
from explorer.engine import Model
from explorer.errors import ExplorerError
from explorer.training.digits import predict_proba

THUMB = 56
WRONG = QtGui.QColor(214, 39, 40)


def _read_any(path: Path) -> np.ndarray:
    """Any image Qt reads (PNG, JPEG, BMP, ...) -> (H, W, 4) uint8 RGBA."""
    img = QtGui.QImage(str(path))
    if img.isNull():
        raise ExplorerError(f"{Path(path).name}: cannot read it as an image")
    rgba = img.convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    h, w, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
    buf = np.frombuffer(rgba.constBits(), np.uint8, count=h * stride)
    return buf.reshape(h, stride)[:, :w * 4].reshape(h, w, 4).copy()


class GalleryWindow(QtWidgets.QDialog):
    """``GalleryWindow(folder, model_fn)``; ``readings`` -> list of (Example, label read, prob)."""

    changed = QtCore.Signal()
    status = QtCore.Signal(str)

    def __init__(self, folder: str | Path, model_fn: Callable[[], Model],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("My examples")
        self.store = ExampleStore(folder, _read_any)
        self.model_fn = model_fn
        self.readings: list[tuple[Example, int, float]] = []
        self.header = QtWidgets.QLabel()
        self.header.setWordWrap(True)
        self.rows: list[QtWidgets.QListWidget] = []
        self.counts: list[QtWidgets.QLabel] = []
        grid = QtWidgets.QGridLayout()
        grid.setVerticalSpacing(2)
        for d in range(10):
            name = QtWidgets.QLabel(f"<b style='font-size:16pt'>{d}</b>")
            count = QtWidgets.QLabel("0")
            count.setToolTip(f"examples of {d} · how many of them the model reads right")
            col = QtWidgets.QVBoxLayout()
            col.addWidget(name)
            col.addWidget(count)
            col.addStretch(1)
            view = QtWidgets.QListWidget()
            view.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
            view.setFlow(QtWidgets.QListView.Flow.LeftToRight)
            view.setWrapping(False)
            view.setIconSize(QtCore.QSize(THUMB, THUMB))
            view.setGridSize(QtCore.QSize(THUMB + 26, THUMB + 24))
            view.setFixedHeight(THUMB + 46)
            view.setMovement(QtWidgets.QListView.Movement.Static)
            view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
            view.setToolTip(f"Your examples of {d}. Under each: what the model reads and how sure "
                            "it is; red ✗ = it reads another digit.")
            grid.addLayout(col, d, 0)
            grid.addWidget(view, d, 1)
            self.rows.append(view)
            self.counts.append(count)
        inner = QtWidgets.QWidget()
        inner.setLayout(grid)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)

        self.delete_btn = QtWidgets.QPushButton("Delete")
        self.delete_btn.setToolTip("Delete the selected examples (image and strokes)")
        self.move_to = QtWidgets.QComboBox()
        self.move_to.addItems([str(d) for d in range(10)])
        self.move_to.setToolTip("The digit the selected examples really are")
        self.relabel_btn = QtWidgets.QPushButton("Re-label as")
        self.relabel_btn.setToolTip("Move the selected examples to the digit on the right")
        self.import_btn = QtWidgets.QPushButton("Import folder…")
        self.import_btn.setToolTip("Copy in the images of a folder with sub-folders 0 to 9")
        self.export_btn = QtWidgets.QPushButton("Export…")
        self.export_btn.setToolTip("Copy every example (and strokes) to a folder, same layout")
        self.reload_btn = QtWidgets.QPushButton("Reload")
        self.reload_btn.setToolTip("Read the folder again and re-run the current model on it")
        buttons = QtWidgets.QHBoxLayout()
        for w in (self.delete_btn, self.relabel_btn, self.move_to):
            buttons.addWidget(w)
        buttons.addStretch(1)
        for w in (self.import_btn, self.export_btn, self.reload_btn):
            buttons.addWidget(w)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(scroll, 1)
        lay.addLayout(buttons)
        self.delete_btn.clicked.connect(lambda: self.delete(self.selected()))
        self.relabel_btn.clicked.connect(lambda: self.relabel(self.selected(), int(self.move_to.currentText())))
        self.import_btn.clicked.connect(self._ask_import)
        self.export_btn.clicked.connect(self._ask_export)
        self.reload_btn.clicked.connect(self.reload)
        self.resize(760, 900)
        self.reload()

    # -- model readings ---------------------------------------------------------------------
    def _read(self, examples: list[Example]) -> list[tuple[Example, int, float]]:
        xs, ok = [], []
        for ex in examples:
            try:
                xs.append(example_input(self.store, ex))
                ok.append(ex)
            except (ExplorerError, OSError, ValueError):
                continue
        if not xs:
            return []
        probs = predict_proba(self.model_fn(), np.stack(xs).astype(np.float32))
        return [(ex, int(p.argmax()), float(p.max())) for ex, p in zip(ok, probs)]

    def reload(self) -> None:
        """Re-read the folder, re-run the model, refill every row."""
        self.readings = self._read(self.store.list())
        for view in self.rows:
            view.clear()
        right = [0] * 10
        total = [0] * 10
        for ex, read, prob in self.readings:
            total[ex.label] += 1
            right[ex.label] += read == ex.label
            mark = "" if read == ex.label else "✗ "
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(QtGui.QPixmap(str(ex.path))),
                                             f"{mark}{read} {prob:.0%}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, ex)
            item.setToolTip(f"{ex.path.name}\nlabel {ex.label} · the model reads {read} "
                            f"({prob:.1%}){'' if ex.has_strokes() else ' · image only, no strokes'}")
            if read != ex.label:
                item.setForeground(WRONG)
            self.rows[ex.label].addItem(item)
        for d in range(10):
            self.counts[d].setText(f"{total[d]} · {right[d]} ✓" if total[d] else "0")
        n, wrong = len(self.readings), sum(t - r for t, r in zip(total, right))
        self.header.setText(f"<b>{n} examples</b> in <code>{self.store.root}</code> · the current "
                            f"model misreads <b style='color:#d62728'>{wrong}</b>. Draw in the Digits "
                            "tab and press a digit key to add more; fine-tune in the Train tab.")

    # -- editing ----------------------------------------------------------------------------
    def selected(self) -> list[Example]:
        return [it.data(QtCore.Qt.ItemDataRole.UserRole) for view in self.rows for it in view.selectedItems()]

    def delete(self, examples: list[Example]) -> None:
        for ex in examples:
            self.store.delete(ex)
        self._changed(f"deleted {len(examples)} example(s)")

    def relabel(self, examples: list[Example], label: int) -> None:
        for ex in examples:
            self.store.relabel(ex, label)
        self._changed(f"moved {len(examples)} example(s) to {label}")

    def import_folder(self, folder: str | Path) -> int:
        try:
            n = len(self.store.import_folder(folder))
        except ExplorerError as exc:
            self.status.emit(str(exc))
            return 0
        self._changed(f"imported {n} example(s) from {folder}")
        return n

    def export(self, folder: str | Path) -> int:
        n = self.store.export(folder)
        self.status.emit(f"exported {n} example(s) to {folder}")
        return n

    def _changed(self, text: str) -> None:
        self.reload()
        self.status.emit(text)
        self.changed.emit()

    def _ask_import(self) -> None:
        d = QtWidgets.QFileDialog.getExistingDirectory(self, "Import a folder with sub-folders 0 to 9")
        if d:
            self.import_folder(d)

    def _ask_export(self) -> None:
        d = QtWidgets.QFileDialog.getExistingDirectory(self, "Export the examples to a folder")
        if d:
            self.export(d)


def demo() -> GalleryWindow:
    """The gallery of a temporary examples folder holding the demo '7'."""
    from explorer.ui.digit.demo import demo_folder, demo_model
    model = demo_model()
    return GalleryWindow(demo_folder(), lambda: model)


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
