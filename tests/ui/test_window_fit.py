"""A window that fits a laptop: every tab at 1280×720 and 1024×640, nothing outside the window.

"Cut off" is checked on widgets: every visible widget of a lab lies inside the lab's
rectangle, unless it sits in a scroll area (then it can be scrolled to). The window keeps
the asked size on every tab (a lab's minimum size must not push it taller).
"""

import pytest
from PySide6 import QtCore, QtWidgets

from explorer.ui.main_window import MainWindow


def in_scroll_area(w: QtWidgets.QWidget, page: QtWidgets.QWidget) -> bool:
    p = w.parentWidget()
    while p is not None and p is not page:
        if isinstance(p, QtWidgets.QAbstractScrollArea):
            return True
        p = p.parentWidget()
    return False


def outside(page: QtWidgets.QWidget) -> list[str]:
    bad = []
    box = page.rect().adjusted(-1, -1, 1, 1)
    for w in page.findChildren(QtWidgets.QWidget):
        if not w.isVisibleTo(page) or w.isWindow() or in_scroll_area(w, page):
            continue
        r = QtCore.QRect(w.mapTo(page, QtCore.QPoint(0, 0)), w.size())
        if not box.contains(r):
            bad.append(f"{type(w).__name__} {w.objectName()} {r.getRect()} in {page.size().toTuple()}")
    return bad


@pytest.fixture
def window(qtbot, tmp_path, ui):
    win = MainWindow(ui.settings_at(str(tmp_path / "s.ini")), digit_model=ui.tiny_cnn(0))
    qtbot.addWidget(win)
    win.resize(1280, 720)
    with qtbot.waitExposed(win):
        win.show()
    return win


def test_minimum_size_fits_a_small_laptop(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 600, hint


@pytest.mark.parametrize("size", [(1280, 720), (1024, 640)])
def test_every_tab_fits(qtbot, window, size):
    # the offscreen screen is 800×600: Qt's window logic may clamp, so the central widget is checked
    window.setMinimumSize(0, 0)
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size)
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        qtbot.wait(30)
        assert window.size().toTuple() == size, window.tabs.tabText(i)
        page = window.tabs.widget(i)
        assert outside(page) == [], window.tabs.tabText(i)
