"""EvidencePanel: which training images does my drawing resemble, and where does the model go wrong?

Left: the 8 training images nearest to the drawing in the network's last hidden layer (what
the final layer actually compares), with their labels and distances. Right: the confusion
matrix of the model on its held-out images (the split training never saw); click a cell to
see those images, then click one to load it onto the canvas. Loading the data and running
the model over it happens in a worker thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.evidence import Evidence, build_evidence, nearest
from explorer.ui.widgets.jobs import JobRunner, failed_to
from explorer.ui.widgets.mosaic import MosaicPanel

INK = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (0, 0, 0)])      # ink dark on white, as drawn
SHOWN = 16


class EvidencePanel(QtWidgets.QFrame):
    """``load(model)`` (worker) -> ``evidence``; ``show_nearest(model, x)``; ``load_image(img)`` signal."""

    load_image = QtCore.Signal(object)          # (28, 28) ink in [0, 1]
    finished = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.evidence: Evidence | None = None
        self.cell_indices = np.zeros(0, np.int64)
        self.runner = JobRunner(self)
        self.load_button = QtWidgets.QPushButton("Load held-out images")
        self.load_button.setToolTip("Read the MNIST images on this machine and run the model over them (worker)")
        self.status = QtWidgets.QLabel("The evidence needs the MNIST images training used.")
        self.status.setWordWrap(True)
        self.near = MosaicPanel("nearest training images", (
            "The 8 training images whose last-hidden-layer activations are closest (Euclidean) to\n"
            "your drawing's: what the final layer sees as similar. Label and distance underneath."),
            8, 28, 28, 8, INK, (0.0, 1.0))
        self.near_labels = QtWidgets.QLabel("")
        self.near.setMinimumHeight(60)
        self.near_labels.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(10, 10)
        self.table.setToolTip("Rows: the true class; columns: what the model answered. The diagonal is right;\n"
                              "every other cell counts one kind of mistake. Click a cell to see its images.")
        self.table.setHorizontalHeaderLabels([f"→{k}" for k in range(10)])
        self.table.setVerticalHeaderLabels([f"{k}" for k in range(10)])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for hdr in (self.table.horizontalHeader(), self.table.verticalHeader()):
            hdr.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
            hdr.setMinimumSectionSize(12)
        self.table.verticalHeader().setDefaultSectionSize(12)
        self.table.setMinimumSize(240, 12 * 10 + self.table.horizontalHeader().sizeHint().height() + 4)
        self.cell = MosaicPanel("that cell", (
            "Held-out images of the clicked cell (true class → answer), at most 16.\n"
            "Click one to load it onto the canvas."), SHOWN, 28, 28, 4, INK, (0.0, 1.0))
        self.cell.setFixedWidth(120)
        # two pages (a narrow column cannot show both at a readable size): neighbours, mistakes
        near_page = QtWidgets.QWidget()
        near_lay = QtWidgets.QVBoxLayout(near_page)
        near_lay.setContentsMargins(2, 4, 2, 2)
        near_lay.addWidget(self.near, 1)
        near_lay.addWidget(self.near_labels)
        near_lay.addStretch(0)
        mistakes = QtWidgets.QWidget()
        right = QtWidgets.QVBoxLayout(mistakes)
        right.setContentsMargins(2, 4, 2, 2)
        title = QtWidgets.QLabel("<b>confusion matrix</b> · true class (rows) → answer (columns)")
        title.setWordWrap(True)
        right.addWidget(title)
        cells = QtWidgets.QHBoxLayout()        # the images beside the table: the page stays short
        cells.addWidget(self.table, 1)
        cells.addWidget(self.cell)
        right.addLayout(cells, 1)
        self.pages = QtWidgets.QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(near_page, "nearest images")
        self.pages.addTab(mistakes, "mistakes")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.load_button)
        top.addWidget(self.status, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        heading = QtWidgets.QLabel("<b>evidence</b> · the training images it finds similar; its mistakes")
        heading.setWordWrap(True)
        lay.addWidget(heading)
        lay.addLayout(top)
        lay.addWidget(self.pages, 1)
        self.table.cellClicked.connect(self.show_cell)
        self.cell.view.cell_clicked.connect(self._on_cell_image)

    def load(self, model: Model, data: Any = None) -> None:
        def job(_report: Any, _cancel: Any) -> Evidence:
            return build_evidence(model, data)
        self.load_button.setEnabled(False)
        self.status.setText("loading images and running the model …")
        self.runner.start(job, None, self._on_loaded, failed_to(self.load_button, self.status, self.finished))

    def stop(self) -> None:
        self.runner.stop()

    def _on_loaded(self, ev: Evidence) -> None:
        self.evidence = ev
        self.load_button.setEnabled(True)
        self.status.setText(f"{len(ev.y_val):,} held-out images, accuracy {100 * ev.accuracy:.1f} %; "
                            f"{len(ev.y_train):,} training images for the nearest neighbours")
        top = max(1, int(ev.confusion.max()))
        off = max(1, int((ev.confusion - np.diag(np.diag(ev.confusion))).max()))
        for r in range(10):
            for c in range(10):
                n = int(ev.confusion[r, c])
                item = QtWidgets.QTableWidgetItem(str(n) if n else "")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                if r == c:
                    shade = 255 - int(120 * n / top)
                    item.setBackground(QtGui.QColor(shade, 255, shade))
                elif n:
                    shade = 255 - int(150 * n / off)
                    item.setBackground(QtGui.QColor(255, shade, shade))
                item.setToolTip(f"{n} held-out {r}s read as {c}")
                self.table.setItem(r, c, item)
        self.finished.emit()

    def show_nearest(self, model: Model, x: np.ndarray | None) -> None:
        if self.evidence is None or x is None:
            self.near.view.show_maps(np.zeros((8, 28, 28), np.float32))
            self.near_labels.setText("" if self.evidence is not None else "Load the images to see the nearest ones.")
            return
        idx, dist = nearest(self.evidence, model, x, 8)
        self.near.view.show_maps(self.evidence.x_train[idx])
        self.near_labels.setText("labels: " + "  ".join(f"<b>{self.evidence.y_train[i]}</b> ({d:.1f})"
                                                        for i, d in zip(idx, dist)))

    def show_cell(self, true: int, pred: int) -> None:
        if self.evidence is None:
            return
        self.cell_indices = self.evidence.cell(true, pred)[:SHOWN]
        imgs = np.zeros((SHOWN, 28, 28), np.float32)
        imgs[:len(self.cell_indices)] = self.evidence.x_val[self.cell_indices]
        self.cell.view.show_maps(imgs)
        total = len(self.evidence.cell(true, pred))
        self.cell.title.setText(f"<b>true {true} → answered {pred}</b>: {total} image{'s' * (total != 1)}"
                                f"{' (first 16)' if total > SHOWN else ''}; click one to load it")

    def _on_cell_image(self, tile: int, _row: int, _col: int) -> None:
        if self.evidence is not None and tile < len(self.cell_indices):
            self.load_image.emit(self.evidence.x_val[self.cell_indices[tile]].copy())


def demo() -> EvidencePanel:
    """The evidence panel (press its button to load held-out digits and score the demo model)."""
    return EvidencePanel()


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
