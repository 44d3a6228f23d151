"""FoldingSplitter: a splitter of panel rows that folds its lower rows into tabs when space is short.

A window of 1024×640 cannot show every panel of a lab at a readable size; a scroll area hides
the rest and squashing makes them unreadable. So, below ``need`` (the size at which every row
is still readable side by side), the rows after the first ``pinned`` ones become the pages of
a tab widget under the pinned rows: each row keeps its own inner splitters, and every panel
stays readable, one page at a time; a row whose panels side by side are wider than the
window gives each of its panels a page of its own. Above ``need`` the rows return to their places with the
sizes they had. Rows added to the splitter later (new panels) fold like the others.
"""

from __future__ import annotations

from typing import cast

from PySide6 import QtCore, QtGui, QtWidgets


def child(split: QtWidgets.QSplitter, i: int) -> QtWidgets.QWidget:
    """The splitter's ``i``-th widget (``i < split.count()``, so never None)."""
    return cast(QtWidgets.QWidget, split.widget(i))


def title_of(w: QtWidgets.QWidget) -> str:
    """A row's tab title: its window title, else its panels' titles joined, else its class name."""
    if w.windowTitle():
        return w.windowTitle()
    if isinstance(w, QtWidgets.QSplitter):     # a panel its lab hid is not named
        return " · ".join(title_of(child(w, i)) for i in range(w.count()) if not child(w, i).isHidden())
    name = type(w).__name__.removesuffix("Panel")
    return name[:1].upper() + name[1:]


def min_width(w: QtWidgets.QWidget) -> int:
    """The narrowest ``w`` can be without clipping: a pyqtgraph view's own layout counts too."""
    if isinstance(w, QtWidgets.QSplitter):
        widths = [min_width(child(w, i)) for i in range(w.count()) if not child(w, i).isHidden()]
        if w.orientation() == QtCore.Qt.Orientation.Vertical:
            return max(widths, default=0)
        return sum(widths) + w.handleWidth() * max(len(widths) - 1, 0)
    own = max(w.minimumSizeHint().width(), w.minimumWidth())
    for view in [w, *w.findChildren(QtWidgets.QGraphicsView)]:
        central = getattr(view, "centralWidget", None)       # pyqtgraph's GraphicsView, or one inside a panel
        if isinstance(central, QtWidgets.QGraphicsWidget):
            around = max(w.width() - view.width(), 0) if view is not w else 0   # the panel's bars and margins
            own = max(own, int(central.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width()) + 2 + around)
    return own


def fit_row(row: QtWidgets.QSplitter) -> None:
    """Give each shown panel of a horizontal ``row`` at least its ``min_width`` (a QSplitter only
    knows the Qt minimum, not a pyqtgraph layout's, and leaves a re-shown panel at zero width);
    the rest of the row's width in proportion to the sizes the panels had."""
    if row.orientation() != QtCore.Qt.Orientation.Horizontal:
        return
    sizes = row.sizes()
    shown = [i for i in range(row.count()) if not child(row, i).isHidden()]
    mins = {i: min_width(child(row, i)) for i in shown}
    if not shown or all(sizes[i] >= mins[i] for i in shown):
        return
    room = max(row.width(), sum(sizes)) - row.handleWidth() * (len(shown) - 1)
    spare = max(room - sum(mins.values()), 0)
    weight = {i: max(sizes[i] - mins[i], 0) or 1 for i in shown}
    total = sum(weight.values())
    row.setSizes([mins[i] + spare * weight[i] // total if i in mins else 0 for i in range(row.count())])


class FoldingSplitter(QtWidgets.QWidget):
    """Shows ``rows`` (a vertical splitter) as it is when this widget is at least ``need``;
    otherwise rows ``pinned`` and later are tabs of ``tabs`` (in the same splitter).
    ``folded`` says which; ``folded_changed(bool)`` when it changes."""

    folded_changed = QtCore.Signal(bool)

    def __init__(self, rows: QtWidgets.QSplitter, need: QtCore.QSize, pinned: int = 1,
                 proportions: list[int] | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        # the rows' heights in proportion, applied when first shown at a real size (sizes set
        # before that are squeezed by the widgets' minimums at Qt's guessed size); saved
        # settings (restore_wide_state) take precedence
        self._proportions = list(proportions) if proportions else None
        self.rows, self.need, self.pinned = rows, QtCore.QSize(need), pinned
        self.folded = False
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("foldedRows")
        self.tabs.setDocumentMode(True)
        self.tabs.setParent(self)
        self.tabs.hide()
        self._moved: list[tuple[QtWidgets.QWidget, list[QtWidgets.QWidget], list[int]]] = []
        self._split: list[bool] = []
        self._kept_hidden: set[QtWidgets.QWidget] = set()
        self._wide_sizes: list[int] = list(proportions) if proportions else rows.sizes()
        self._wide_state: QtCore.QByteArray | None = None   # the rows' state when they last folded, laid out
        self._page: QtWidgets.QWidget | None = None         # the tab on show when the rows last unfolded
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(rows)
        # below ``need`` the folded rows decide; never let the unfolded minimum bind the window
        self.setMinimumSize(1, 1)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return QtCore.QSize(0, 0)

    def fits(self, size: QtCore.QSize) -> bool:
        return size.width() >= self.need.width() and size.height() >= self.need.height()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        folded = not self.fits(self.size())
        if self._proportions and self.isVisible() and not folded and not self.folded:
            total = sum(self._proportions)
            room = max(self.height() - self.rows.handleWidth() * (self.rows.count() - 1), 1)
            self.rows.setSizes([room * p // total for p in self._proportions])
            self._proportions = None
        if folded and self.folded and self._plan() != self._split:
            self.set_folded(False)           # the window changed which rows must split: fold anew
        self.set_folded(folded)

    def set_folded(self, folded: bool) -> None:
        if folded == self.folded:
            return
        self.folded = folded
        self.rows.setUpdatesEnabled(False)
        try:
            self._fold() if folded else self._unfold()
        finally:
            self.rows.setUpdatesEnabled(True)
        self.folded_changed.emit(folded)

    def _plan(self) -> list[bool]:
        """For each row to fold: True when it is wider than this widget (its panels get a tab each)."""
        return [isinstance(w, QtWidgets.QSplitter) and w.orientation() == QtCore.Qt.Orientation.Horizontal
                and min_width(w) > self.width()
                for w in (self.rows.widget(i) for i in range(self.pinned, self.rows.count())) if w is not self.tabs]

    def _fold(self) -> None:
        sizes = self.rows.sizes()
        if self.rows.isVisible() and sum(sizes) > 0:
            self._wide_sizes = sizes     # not the sizes of a page laid out hidden, at a guessed size
            self._wide_state = self.rows.saveState()
        current = self.tabs.currentIndex()
        self._split = self._plan()
        rows = [self.rows.widget(i) for i in range(self.pinned, self.rows.count())]
        self._moved = []
        for w, split in zip((r for r in rows if r is not self.tabs), self._split):
            assert isinstance(w, QtWidgets.QWidget)
            if split:
                assert isinstance(w, QtWidgets.QSplitter)
                parts = [child(w, i) for i in range(w.count())]
                sizes = w.sizes()
                for part in parts:
                    if not part.isHidden():     # a panel its lab hid stays hidden, in its row
                        self.tabs.addTab(part, title_of(part))
                    else:
                        self._kept_hidden.add(part)
                w.setParent(self)
                w.hide()
                self._moved.append((w, parts, sizes))
            else:
                self.tabs.addTab(w, title_of(w))
                self._moved.append((w, [], []))
                if isinstance(w, QtWidgets.QSplitter):
                    w.resize(self.width(), w.height())      # the page's width, before it is laid out
                    fit_row(w)
        self.rows.insertWidget(self.pinned, self.tabs)
        self.tabs.show()
        page = self.tabs.indexOf(self._page) if self._page is not None else -1
        self.tabs.setCurrentIndex(page if page >= 0 else min(max(current, 0), self.tabs.count() - 1))
        self._page = None
        top = sum(self._wide_sizes[: self.pinned])
        total = max(sum(self._wide_sizes), 1) if self._wide_sizes else 3
        height = max(self.rows.height(), 1)
        # the pinned rows keep their share, at least a third and at most half of the height
        pinned_px = min(max(int(height * top / total), height // 3), height // 2)
        self.rows.setSizes([pinned_px // max(self.pinned, 1)] * self.pinned + [height - pinned_px])

    def _unfold(self) -> None:
        # folded again (a re-plan, panels shown or hidden, a saved state applied), the same tab
        # is on show: not the first one
        self._page = self.tabs.currentWidget()
        self.tabs.hide()
        self.tabs.setParent(self)       # out of the splitter; kept (and re-used), outside any layout
        while self.tabs.count():
            self.tabs.removeTab(0)
        for i, (w, parts, sizes) in enumerate(self._moved):
            if parts:
                assert isinstance(w, QtWidgets.QSplitter)   # parts were only taken out of a split row
                for part in parts:
                    w.addWidget(part)
                    if part not in self._kept_hidden:
                        part.show()        # a tab page the tab widget hid
                w.setSizes(sizes)
            self.rows.insertWidget(self.pinned + i, w)
            w.show()
        self._moved = []
        self._kept_hidden.clear()
        if self._wide_sizes:
            self.rows.setSizes(self._wide_sizes)

    def set_panels_visible(self, visible: dict[QtWidgets.QWidget, bool]) -> None:
        """Show or hide panels of the rows (e.g. a model without gates), folded or not: a folded
        window folds anew, so a hidden panel has no tab and a shown one gets its own."""
        folded = self.folded
        self.set_folded(False)
        for w, v in visible.items():
            w.setVisible(v)
        for row in {w.parentWidget() for w in visible}:
            if isinstance(row, QtWidgets.QSplitter):
                fit_row(row)
        if folded:
            self.set_folded(True)

    def wide_state(self) -> QtCore.QByteArray:
        """The rows' splitter state as it is (or was) unfolded: what to keep in the settings.
        Folded, the state kept when the rows folded (not unfolded and folded again: the
        settings are saved after every edit, and that re-laid out every panel)."""
        if not self.folded:
            return self.rows.saveState()
        if self._wide_state is not None:
            return QtCore.QByteArray(self._wide_state)
        self._unfold()
        state = self.rows.saveState()
        self.folded = False
        self.set_folded(True)
        return state

    def restore_wide_state(self, state: QtCore.QByteArray) -> bool:
        """Apply a saved unfolded state (now, or when the rows next unfold)."""
        self._proportions = None
        if not self.folded:
            return self.rows.restoreState(state)
        self._unfold()
        ok = self.rows.restoreState(state)
        self.folded = False
        self.set_folded(True)
        if ok:
            self._wide_state = QtCore.QByteArray(state)
        return ok
