"""What a person sees of a window without scrolling: every tab's controls and plots.

``tab_states(window)`` walks every QTabWidget the window shows, depth first (a page's own
tab widgets are walked while that page is current), and yields the path of tab titles
after making each page current. ``problems(window)`` lists, in words, every visible control
that is not wholly inside the window (clipped by the window, a splitter pane, or a scroll
area's viewport at its current scroll position), every plot less than 60 % visible or
squashed, and every label whose text does not fit its box. Nothing here knows which panels
exist: panels added later are covered as they are.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

PLOT_VISIBLE = 0.6          # a plot is readable when at least this fraction of it is on screen
PLOT_MIN = (120, 100)       # ... and at least this many pixels wide and tall (a PlotWidget)
SLACK = 1                   # pixels a control may overhang (frame rounding)

# Parts of Qt's own widgets that are not controls of ours: the tab bar's scroll arrows, a
# scroll bar's parts, a spin box's line edit, a tool bar's overflow button ...
_INTERNAL_PARENTS = (QtWidgets.QTabBar, QtWidgets.QScrollBar, QtWidgets.QAbstractSpinBox,
                     QtWidgets.QComboBox, QtWidgets.QToolBar, QtWidgets.QMenuBar, QtWidgets.QStatusBar,
                     QtWidgets.QAbstractItemView)
_CONTROLS = (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox,
             QtWidgets.QSlider, QtWidgets.QLineEdit)


def _box(w: QtWidgets.QWidget, window: QtWidgets.QWidget) -> QtCore.QRect:
    return QtCore.QRect(w.mapTo(window, QtCore.QPoint(0, 0)), w.size())


def seen_rect(w: QtWidgets.QWidget, window: QtWidgets.QWidget) -> QtCore.QRect:
    """The part of ``w`` (window coordinates) inside every ancestor: what is painted of it."""
    r = _box(w, window)
    p = w.parentWidget()
    while p is not None and p is not window:
        r = r.intersected(_box(p, window))
        p = p.parentWidget()
    return r.intersected(window.rect())


def name_of(w: QtWidgets.QWidget) -> str:
    """A widget as a person would name it: its text, tooltip or object name, and its class."""
    text = ""
    for attr in ("text", "currentText", "title"):
        fn = getattr(w, attr, None)
        if callable(fn):
            try:
                value = fn()
            except TypeError:
                continue
            if isinstance(value, str) and value:
                text = value
                break
    if not text and isinstance(w, pg.PlotWidget):
        text = w.getPlotItem().titleLabel.text
    if not text:
        text = w.objectName() or (w.toolTip() or "").split("\n")[0][:50]
    return f"{type(w).__name__} {text!r}"


def _internal(w: QtWidgets.QWidget) -> bool:
    p = w.parentWidget()
    return p is not None and isinstance(p, _INTERNAL_PARENTS) and not isinstance(w, _CONTROLS[1:2])


def is_plot(w: QtWidgets.QWidget) -> bool:
    """A pyqtgraph view, or one of our own widgets that paints its content itself."""
    if isinstance(w, pg.GraphicsView):
        return True
    own = [c for c in type(w).__mro__ if c.__module__.startswith("explorer.")]
    return any("paintEvent" in vars(c) for c in own)


def _shown(w: QtWidgets.QWidget, window: QtWidgets.QWidget) -> bool:
    return w.isVisibleTo(window) and not w.isWindow() and QtWidgets.QWidget.window(w) is window


def problems(window: QtWidgets.QWidget) -> list[str]:
    """Every control, plot and label of ``window``'s current tabs that is not fully readable."""
    out = []
    for w in window.findChildren(QtWidgets.QWidget):
        if not _shown(w, window) or _internal(w):
            continue
        box, seen = _box(w, window), seen_rect(w, window)
        where = f"at {box.getRect()}, visible {seen.getRect() if not seen.isEmpty() else 'nothing'}"
        if isinstance(w, _CONTROLS):
            if isinstance(w, QtWidgets.QLineEdit) and isinstance(w.parentWidget(), (QtWidgets.QAbstractSpinBox,
                                                                                   QtWidgets.QComboBox)):
                continue
            if not seen.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(box):
                out.append(f"{name_of(w)} is cut off: {where}")
            elif isinstance(w, QtWidgets.QComboBox) and (cut := combo_cut(w)):
                out.append(f"{name_of(w)} {cut}")
            elif isinstance(w, QtWidgets.QAbstractButton) and w.text() and not isinstance(w, QtWidgets.QToolButton):
                need = w.sizeHint().width() if not isinstance(w, QtWidgets.QCheckBox) else w.minimumSizeHint().width()
                if w.width() + SLACK < min(need, w.minimumSizeHint().width() or need):
                    out.append(f"{name_of(w)} is narrower than its text: {w.width()} < {need}")
        elif isinstance(w, QtWidgets.QTableView) and (w.verticalScrollBar().isVisible()
                                                       or w.horizontalScrollBar().isVisible()):
            out.append(f"{name_of(w)} hides rows or columns behind a scroll bar ({w.width()}x{w.height()} px)")
        elif isinstance(w, QtWidgets.QScrollArea) and (w.verticalScrollBar().isVisible()
                                                        or w.horizontalScrollBar().isVisible()):
            inner = w.widget()
            what = name_of(inner) if inner is not None else "its content"
            out.append(f"{what} needs scrolling: {inner.size().toTuple() if inner else ''} "
                       f"in a {w.viewport().width()}x{w.viewport().height()} px view")
        elif is_plot(w):
            area = box.width() * box.height()
            frac = seen.width() * seen.height() / area if area and not seen.isEmpty() else 0.0
            if frac < PLOT_VISIBLE:
                out.append(f"{name_of(w)} is {100 * frac:.0f} % visible: {where}")
            elif isinstance(w, pg.GraphicsView) and (clipped := layout_clipped(w)):
                out.append(f"{name_of(w)} draws {clipped}")
            elif isinstance(w, pg.GraphicsView) and (cut := titles_cut(w)):
                out.append(f"{name_of(w)}: {cut}")
            elif isinstance(w, pg.GraphicsView) and (hidden := under_legend(w)):
                out.append(f"{name_of(w)}: {hidden}")
            elif isinstance(w, pg.PlotWidget) and (seen.width() < PLOT_MIN[0] or seen.height() < PLOT_MIN[1]):
                out.append(f"{name_of(w)} is squashed to {seen.width()}x{seen.height()} px")
        elif isinstance(w, QtWidgets.QLabel) and w.text() and not w.pixmap():
            cut = label_cut(w)
            if cut:
                out.append(f"{name_of(w)} {cut}")
            elif not seen.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(box) and seen.height() < box.height():
                out.append(f"{name_of(w)} is cut off: {where}")
    return out


def layout_clipped(view: pg.GraphicsView) -> str:
    """'' when a pyqtgraph view's own layout (plots, colour bars, labels) fits in it; else how."""
    central = getattr(view, "centralWidget", None)
    if not isinstance(central, QtWidgets.QGraphicsWidget):
        return ""
    need = central.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize)
    have = view.viewport().size()
    if need.width() > have.width() + 2 or need.height() > have.height() + 2:
        return f"a layout of at least {need.width():.0f}x{need.height():.0f} px in {have.width()}x{have.height()}"
    return ""


def titles_cut(view: pg.GraphicsView) -> str:
    """'' unless a plot's title (or an axis label) is wider than the plot that shows it."""
    for item in view.scene().items():
        if not isinstance(item, pg.PlotItem) or not item.isVisible():
            continue
        labels = [("title", item.titleLabel)] if item.titleLabel.isVisible() else []
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            if axis.isVisible() and axis.label.toPlainText():
                labels.append((f"{name} axis label", axis))
        for what, lab in labels:
            if isinstance(lab, pg.AxisItem):
                text, need = lab.label.toPlainText(), lab.label.boundingRect().width()
                room = item.vb.height() if lab.orientation == "left" else item.vb.width()
                room += 40                      # a label may run under the axis' own ticks
            else:
                text, need, room = lab.item.toPlainText(), lab.item.boundingRect().width(), item.width()
            if need > room + SLACK:
                return f"its {what} {text!r} needs {need:.0f} px and has {room:.0f}"
    return ""


def under_legend(view: pg.GraphicsView) -> str:
    """'' unless a text in the plot (a line's label, a note) lies under one of its legends."""
    items = view.scene().items()
    legends = [i for i in items if isinstance(i, pg.LegendItem) and i.isVisible() and i.items]
    for item in items:
        if not isinstance(item, pg.TextItem) or not item.isVisible() or not item.toPlainText().strip():
            continue
        for legend in legends:
            if legend.isAncestorOf(item):
                continue
            if legend.sceneBoundingRect().intersects(item.sceneBoundingRect()):
                return f"the label {item.toPlainText()!r} hides under the legend"
    return ""


def combo_cut(combo: QtWidgets.QComboBox) -> str:
    """'' when a combo box shows its current text whole; else how much room it lacks."""
    opt = QtWidgets.QStyleOptionComboBox()
    combo.initStyleOption(opt)
    text = combo.style().subControlRect(QtWidgets.QStyle.ComplexControl.CC_ComboBox, opt,
                                        QtWidgets.QStyle.SubControl.SC_ComboBoxEditField, combo)
    need = combo.fontMetrics().horizontalAdvance(combo.currentText())
    if not combo.isEditable() and need > text.width() + SLACK:
        return f"shows its text cut: needs {need} px and has {text.width()}"
    return ""


def label_cut(label: QtWidgets.QLabel) -> str:
    """Why a label's text does not fit its box ('' when it fits)."""
    if label.wordWrap():
        need = label.heightForWidth(label.width())
        if need > label.height() + SLACK:
            return f"needs {need} px of height and has {label.height()}"
        return ""
    need = label.sizeHint()
    if need.width() > label.width() + SLACK:
        return f"needs {need.width()} px of width and has {label.width()}"
    return ""


def _tab_widgets(root: QtWidgets.QWidget) -> list[QtWidgets.QTabWidget]:
    """The tab widgets under ``root`` that are not inside another tab widget under ``root``
    (``root`` itself when a page is a tab widget)."""
    if isinstance(root, QtWidgets.QTabWidget):
        return [root]
    found = []
    for tw in root.findChildren(QtWidgets.QTabWidget):
        p = tw.parentWidget()
        while p is not None and p is not root and not isinstance(p, QtWidgets.QTabWidget):
            p = p.parentWidget()
        if p is root or p is None:
            found.append(tw)
    return found


def settle(app: QtWidgets.QApplication | None = None) -> None:
    """Let layouts, deferred resizes and queued renders run."""
    app = app or QtWidgets.QApplication.instance()
    for _ in range(4):
        app.processEvents()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)


def tab_states(root: QtWidgets.QWidget, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Make each tab page under ``root`` current in turn (depth first); yields its title path."""
    for tw in _tab_widgets(root):
        if not tw.isVisibleTo(root.window()) and root is not root.window():
            continue
        start = tw.currentIndex()
        for i in range(tw.count()):
            if not tw.isTabVisible(i) or not tw.isTabEnabled(i):
                continue
            tw.setCurrentIndex(i)
            settle()
            here = (*path, tw.tabText(i).replace("&", ""))
            yield here
            yield from tab_states(tw.widget(i), here)
        tw.setCurrentIndex(start)
        settle()
