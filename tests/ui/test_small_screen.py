"""Everything on screen at 1024×640 (and 1280×720, 1920×1080) without scrolling, on every tab and inner tab.

The whole window with the shipped models, a digit drawn and a sweep run, is resized to each
size; every QTabWidget it shows is walked (tests/ui/onscreen.py, so panels added later are
covered), and on every page: each visible control (push, tool, check and radio buttons,
combo boxes, spin boxes, sliders, line edits) lies wholly inside the window and inside every
scroll viewport and splitter pane around it; each plot (pyqtgraph views and our
self-painted panels) is at least 60 % visible, a PlotWidget at least 120×100 px, and its
own layout fits in it; no label, combo box or table cuts its text; no label hides under a
legend.
"""

from __future__ import annotations

import pytest
from onscreen import PLOT_VISIBLE, problems, seen_rect, settle, tab_states
from PySide6 import QtCore, QtWidgets

from explorer.ui.main_window import MainWindow

SIZES = [(1024, 640), (1280, 720), (1920, 1080)]     # the small screens, and nothing worse when large


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """The real window with the shipped models (built once: it takes seconds)."""
    ini = tmp_path_factory.mktemp("small") / "s.ini"
    win = MainWindow(QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat))
    win.resize(*SIZES[0])
    win.show()
    settle()
    yield win
    win.shutdown()
    win.close()
    win.deleteLater()
    settle()


def draw_seven(qtbot, ui, win) -> None:
    win.tabs.setCurrentWidget(win.digit_lab)
    settle()
    if win.digit_lab.probabilities() is None:
        ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    assert win.digit_lab.probabilities() is not None


def sweep(qtbot, win) -> None:
    """Run the Digit Lab's sweep: its result must be on screen too."""
    ex = win.digit_lab.experiments
    with qtbot.waitSignal(ex.sweep.finished, timeout=60_000):
        ex.sweep.run_button.click()
    assert ex.sweep.result is not None


def resize(qtbot, win, size: tuple[int, int]) -> None:
    # the offscreen screen is 800×600: with no minimum the window takes any size asked
    win.setMinimumSize(0, 0)
    win.resize(*size)
    qtbot.waitUntil(lambda: win.size().toTuple() == size)
    settle()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tab_shows_every_control_and_plot(qtbot, ui, window, size):
    draw_seven(qtbot, ui, window)
    resize(qtbot, window, size)
    sweep(qtbot, window)
    seen, bad = [], []
    for path in tab_states(window):
        seen.append(" › ".join(path))
        assert window.size().toTuple() == size, f"{' › '.join(path)} pushed the window to {window.size().toTuple()}"
        bad += [f"{' › '.join(path)}: {p}" for p in problems(window)]
    assert not bad, f"at {size[0]}×{size[1]}:\n" + "\n".join(bad)
    # the walk reached every inner tab of every lab, not just the top level
    tops = {window.tabs.tabText(i) for i in range(window.tabs.count())}
    assert tops <= {p.split(" › ")[0] for p in seen}
    assert any(p.count(" › ") >= 2 for p in seen), seen


def test_the_sweep_result_is_on_screen_at_1024x640(qtbot, ui, window):
    """After a sweep something visible changes: the curves are drawn in a plot that is on screen."""
    draw_seven(qtbot, ui, window)
    resize(qtbot, window, SIZES[0])
    lab = window.digit_lab
    lab.right_tabs.setCurrentWidget(lab.experiments.tabs)
    lab.experiments.tabs.setCurrentWidget(lab.experiments.sweep)
    settle()
    sweep(qtbot, window)
    plot = lab.experiments.sweep.plot
    box = seen_rect(plot, window)
    assert box.width() * box.height() >= PLOT_VISIBLE * plot.width() * plot.height()
    assert plot.height() >= 100
    top = int(lab.experiments.sweep.result.labels[len(lab.experiments.sweep.result.values) // 2])
    assert len(lab.experiments.sweep.curves[top].getData()[0]) > 0
    assert seen_rect(lab.experiments.sweep.run_button, window).size() == lab.experiments.sweep.run_button.size()


def test_the_check_finds_what_is_cut_off(qtbot):
    """A negative control: the checker names a button outside its window, a squashed plot and a
    label cut short."""
    import pyqtgraph as pg

    w = QtWidgets.QWidget()
    qtbot.addWidget(w)
    w.resize(300, 200)
    button = QtWidgets.QPushButton("Far away", w)
    button.setGeometry(280, 10, 100, 24)
    plot = pg.PlotWidget(w)
    plot.setGeometry(0, 150, 300, 200)
    label = QtWidgets.QLabel("a long text that does not fit", w)
    label.setGeometry(0, 40, 40, 20)
    w.show()
    settle()
    found = "\n".join(problems(w))
    assert "'Far away' is cut off" in found
    assert "PlotWidget" in found and "% visible" in found
    assert "'a long text that does not fit' needs" in found
    button.setGeometry(10, 10, 100, 24)
    plot.setGeometry(0, 70, 300, 125)
    plot.setTitle("a title far too long for a plot only three hundred pixels wide, as it goes on and on")
    label.setGeometry(0, 40, 260, 20)
    settle()
    assert any("'a title far too long" in p for p in problems(w))      # a title wider than its plot
    plot.setTitle("short")
    settle()
    assert problems(w) == []


def test_every_sequence_model_fits_at_1024x640(qtbot, window):
    """Each shipped sequence model changes the panels (gates of an LSTM, a GRU, none for a plain
    RNN; a toy task's fixed points): each one's Sequence Lab tabs are checked."""
    resize(qtbot, window, SIZES[0])
    lab = window.sequence_lab
    window.tabs.setCurrentWidget(lab)
    start = lab.model_combo.currentIndex()
    bad = []
    try:
        for i in range(lab.model_combo.count()):
            lab.model_combo.setCurrentIndex(i)
            qtbot.waitUntil(lambda: lab.view is not None, timeout=30_000)
            settle()
            name = lab.model_combo.itemText(i)
            for path in tab_states(lab):
                bad += [f"{name} › {' › '.join(path)}: {p}" for p in problems(window)]
            bad += [f"{name}: {p}" for p in problems(window)]
    finally:
        lab.model_combo.setCurrentIndex(start)
    assert not bad, "\n".join(bad)


def test_the_pen_pages_class_key_is_one_line_at_1024x640(qtbot, window):
    """The ten classes' key under the pen-time curves fits one line of its column: a 9 wrapped
    alone onto a second line looked like an eleventh entry."""
    resize(qtbot, window, SIZES[0])
    window.tabs.setCurrentWidget(window.digit_lab)
    lab = window.digit_lab
    lab.middle_tabs.setCurrentWidget(lab.middle_tabs.widget(1))
    settle()
    legend = lab.pen_time.legend
    assert legend.isVisible()
    one_line = legend.fontMetrics().lineSpacing()
    assert legend.heightForWidth(legend.width()) < 1.6 * one_line, legend.width()
