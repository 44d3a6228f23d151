"""FoldingSplitter: rows fold into tabs below the size they need, and come back as they were."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from explorer.ui.widgets.fold import FoldingSplitter


def panel(title: str, min_w: int = 50) -> QtWidgets.QLabel:
    w = QtWidgets.QLabel(title)
    w.setWindowTitle(title)
    w.setMinimumWidth(min_w)
    return w


def build():
    rows = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    top, a, b = panel("top"), panel("a", 300), panel("b", 300)
    pair = QtWidgets.QSplitter()
    pair.addWidget(a)
    pair.addWidget(b)
    c = panel("c")
    for w in (top, pair, c):
        rows.addWidget(w)
    return FoldingSplitter(rows, QtCore.QSize(500, 500), pinned=1), top, pair, a, b, c


def test_rows_fold_into_tabs_and_return(qtbot):
    fold, top, pair, a, b, c = build()
    qtbot.addWidget(fold)
    fold.resize(800, 700)
    fold.show()
    qtbot.waitExposed(fold)
    assert not fold.folded and fold.rows.count() == 3
    fold.rows.setSizes([100, 400, 200])
    wide = fold.rows.sizes()
    fold.resize(700, 400)                      # too short: rows after the first become tabs
    qtbot.waitUntil(lambda: fold.folded)
    assert fold.rows.widget(0) is top and fold.rows.widget(1) is fold.tabs
    assert [fold.tabs.tabText(i) for i in range(fold.tabs.count())] == ["a · b", "c"]
    state = fold.wide_state()                  # what settings keep: the unfolded sizes
    assert fold.folded and fold.tabs.count() == 2
    fold.resize(800, 700)
    qtbot.waitUntil(lambda: not fold.folded)
    assert [fold.rows.widget(i) for i in range(3)] == [top, pair, c]
    assert pair.widget(0) is a and pair.widget(1) is b and a.isVisible() and c.isVisible()
    assert all(abs(x - y) <= 3 for x, y in zip(fold.rows.sizes(), wide)), (fold.rows.sizes(), wide)
    assert fold.restore_wide_state(state)


def test_a_row_too_wide_for_the_window_gives_each_panel_a_tab(qtbot):
    fold, _top, pair, a, b, _c = build()
    qtbot.addWidget(fold)
    fold.resize(450, 400)                      # narrower than a and b side by side (600)
    fold.show()
    qtbot.waitUntil(lambda: fold.folded)
    assert [fold.tabs.tabText(i) for i in range(fold.tabs.count())] == ["a", "b", "c"]
    fold.resize(700, 400)                      # still short, but wide enough for the pair
    qtbot.waitUntil(lambda: fold.tabs.count() == 2)
    assert fold.tabs.widget(0) is pair and pair.widget(0) is a and pair.widget(1) is b


def test_a_panel_shown_again_gets_its_width_and_a_hidden_one_no_name(qtbot):
    fold, _top, pair, a, b, _c = build()
    qtbot.addWidget(fold)
    fold.resize(800, 400)                      # short: folded, the pair fits side by side
    fold.show()
    qtbot.waitUntil(lambda: fold.folded)
    fold.set_panels_visible({a: False})
    assert fold.tabs.tabText(0) == "b"
    fold.set_panels_visible({a: True})
    assert fold.tabs.tabText(0) == "a · b"
    qtbot.waitUntil(lambda: pair.isVisible())
    assert all(s >= 300 for s in pair.sizes()), pair.sizes()


def test_saving_the_state_or_showing_a_panel_while_folded_keeps_the_tab_on_show(qtbot):
    """The settings are saved after every edit: folded, that must neither move the panels out of
    their tabs and back (every panel laid out again) nor send the user back to the first tab;
    nor may a panel shown or hidden (a model switch) or a saved state applied."""
    fold, top, pair, a, b, c = build()
    qtbot.addWidget(fold)
    fold.resize(800, 700)
    fold.show()
    qtbot.waitExposed(fold)
    fold.rows.setSizes([100, 400, 200])
    fold.resize(700, 400)
    qtbot.waitUntil(lambda: fold.folded)
    fold.tabs.setCurrentWidget(c)
    moved: list[QtCore.QObject] = []

    class Watch(QtCore.QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 (Qt)
            if ev.type() == QtCore.QEvent.Type.ParentChange:
                moved.append(obj)
            return False

    watch = Watch()
    for w in (c, pair):
        w.installEventFilter(watch)
    state = fold.wide_state()
    assert fold.tabs.currentWidget() is c and not moved        # nothing taken out of its tab
    fold.resize(800, 700)
    qtbot.waitUntil(lambda: not fold.folded)
    unfolded = fold.rows.saveState()
    fold.resize(700, 400)
    qtbot.waitUntil(lambda: fold.folded)
    assert fold.wide_state() == unfolded                       # the state as it was unfolded
    fold.tabs.setCurrentWidget(c)
    fold.set_panels_visible({b: False})
    assert fold.tabs.currentWidget() is c
    assert fold.restore_wide_state(state) and fold.tabs.currentWidget() is c
    for w in (c, pair):
        w.removeEventFilter(watch)
