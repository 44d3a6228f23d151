"""A frame's colour runs built from the last frame's (kept up to the first changed colour step)
equal the runs of a fresh colourer, whatever happened in between: typing at the end and in the
middle, deletions, a paste, a new unit, NaNs, unknown and astral characters. The repaint covers
every rectangle that changed, and typing does not grow the rectangle cache. No timing asserts."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence import textcolour
from explorer.ui.sequence.textcolour import PosMap, TextColourer

TEXT = ("def f(x):\n    return x + 1  # a comment that wraps past the edge of the narrow editor\n"
        "\tz = [1, 2]   \n\n") * 8


def _editor(qtbot, text: str = TEXT) -> QtWidgets.QPlainTextEdit:
    from explorer.ui.sequence.editor import SequenceEditor
    edit = SequenceEditor()
    qtbot.addWidget(edit)
    edit.resize(420, 320)
    edit.setPlainText(text)
    with qtbot.waitExposed(edit):
        edit.show()
    return edit


def _values(text: str, unit: int) -> np.ndarray:
    """A causal signal, like a unit's activation: value t depends on characters 0..t only, so
    typing at the end keeps every earlier value; another unit changes them all."""
    codes = np.array([ord(c) for c in text], np.float64)
    v = np.sin(np.cumsum(codes) * (0.013 + 0.007 * unit) + unit)
    v[(np.cumsum(codes) + unit) % 23 == 0] = np.nan
    return v


def _frame(colourer: TextColourer, unit: int = 0, unknown_every: int = 0, offset: int = 0) -> tuple:
    edit = colourer.editor
    text = edit.toPlainText()
    unknown = np.zeros(len(text), bool)
    if unknown_every:
        unknown[::unknown_every] = True
    pos = colourer.pos = PosMap(text)                          # the visible range in this text's characters
    return (_values(text, unit)[offset:], unknown, offset, pos, colourer.visible_range())


def _state(colourer: TextColourer) -> tuple:
    return (colourer._run_array.tolist(), colourer._sorted.tolist(), colourer._starts.tolist(),
            colourer._reach.tolist(), colourer._levels)


def _assert_as_fresh(colourer: TextColourer, frame: tuple) -> None:
    colourer.apply(*frame)
    fresh = TextColourer(colourer.editor)
    fresh.apply(*frame)
    assert _state(colourer) == _state(fresh)


def _edits(edit: QtWidgets.QPlainTextEdit):
    """Edits as the lab sees them, each followed by a frame."""
    cur = edit.textCursor()
    cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
    for ch in "x = 1":
        cur.insertText(ch)                                   # typing at the end
        yield "end"
    cur.deletePreviousChar()                                 # backspace at the end
    yield "backspace"
    cur.setPosition(40)
    for ch in "yy":
        cur.insertText(ch)                                   # typing in the middle
        yield "middle"
    cur.insertText("\n")
    yield "new line"
    cur.setPosition(10)
    cur.setPosition(60, QtGui.QTextCursor.MoveMode.KeepAnchor)
    cur.removeSelectedText()                                 # a selection deleted
    yield "cut"
    cur.insertText("pasted ( text ) here\n" * 3)             # a paste
    yield "paste"
    cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
    cur.insertText("\U0001F600 ok")                          # a character above U+FFFF
    yield "astral"
    cur.insertText("!")
    yield "after astral"


@pytest.mark.parametrize("few", [0, textcolour._FEW, 10_000])
def test_runs_built_on_the_last_frame_equal_a_fresh_colourers(qtbot, monkeypatch, few):
    """few: the size up to which runs are made and compared in Python (0: numpy only)."""
    monkeypatch.setattr(textcolour, "_FEW", few)
    edit = _editor(qtbot)
    colourer = TextColourer(edit)
    _assert_as_fresh(colourer, _frame(colourer))
    kept = 0
    for what in _edits(edit):
        unit = 1 if what == "paste" else 0                    # a new unit: every value changes
        _assert_as_fresh(colourer, _frame(colourer, unit, unknown_every=7 if what == "cut" else 0))
        kept += colourer._kept is not None
        _assert_as_fresh(colourer, _frame(colourer, unit))     # the same frame again
        _assert_as_fresh(colourer, _frame(colourer, unit, offset=25))   # values from a later character
    _assert_as_fresh(colourer, _frame(colourer, 2))
    assert kept > 5
    colourer.apply(None, np.zeros(len(edit.toPlainText()), bool), 0, PosMap(edit.toPlainText()))
    assert not len(colourer._runs) and colourer._kept is None


def test_a_wrongly_kept_prefix_is_seen(qtbot, monkeypatch):
    """Negative control: runs kept past the first changed colour step differ from a fresh
    colourer's, and the comparison above catches it."""
    edit = _editor(qtbot)
    colourer = TextColourer(edit)
    colourer.apply(*_frame(colourer))
    frame = _frame(colourer, unit=1)                          # every level may change
    real = colourer._value_runs

    def stale(values, offset, lo, hi):                        # claims the old runs all still hold
        old = colourer._kept
        runs, _ = real(values, offset, lo, hi)
        return (old[2], len(old[2])) if old is not None else (runs, 0)
    monkeypatch.setattr(colourer, "_value_runs", stale)
    colourer.apply(*frame)
    fresh = TextColourer(edit)
    fresh.apply(*frame)
    assert _state(colourer) != _state(fresh)


def test_level_runs_in_python_equal_numpy(monkeypatch):
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 5, 17, 48, 49, 90):
        levels = rng.integers(-2, 3, n).astype(np.int64)
        levels[rng.random(n) < 0.3] = 0
        monkeypatch.setattr(textcolour, "_FEW", 10_000)
        py = textcolour._level_runs(levels, 7)
        monkeypatch.setattr(textcolour, "_FEW", -1)
        if n:
            np.testing.assert_array_equal(py, textcolour._level_runs(levels, 7))
        assert py.dtype == np.int64 and py.shape[1:] == (3,)
        assert all(levels[a - 7:b - 7].tolist() == [lv] * (b - a) for a, b, lv in py.tolist())


def _painted_regions(edit, qtbot, act) -> QtGui.QRegion:
    painted = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt)
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(QtGui.QRegion(event.region()))
            return False

    spy = Spy()
    QtWidgets.QApplication.processEvents()
    edit.viewport().installEventFilter(spy)
    act()
    qtbot.waitUntil(lambda: bool(painted))
    QtWidgets.QApplication.processEvents()
    edit.viewport().removeEventFilter(spy)
    region = QtGui.QRegion()
    for r in painted:
        region = region.united(r)
    return region


def _rect_set(colourer: TextColourer) -> set:
    got = colourer.rects(colourer.editor.viewport().rect(), cached=False)
    return {(level, r.x(), r.y(), r.width(), r.height()) for level, rs in got.items() for r in rs}


@pytest.mark.parametrize("where", ["end", "middle", "new unit"])
def test_the_repaint_covers_every_changed_rect(qtbot, where):
    edit = _editor(qtbot, TEXT[:300])
    colourer = TextColourer(edit)
    colourer.apply(*_frame(colourer))
    cur = edit.textCursor()
    cur.setPosition(300 if where == "end" else 30)
    unit = 0
    if where == "new unit":
        unit = 1
    else:
        cur.insertText("q")
    QtWidgets.QApplication.processEvents()
    before = _rect_set(colourer)                              # on screen: the runs the edit shifted
    region = _painted_regions(edit, qtbot, lambda: colourer.apply(*_frame(colourer, unit)))
    changed = before ^ _rect_set(colourer)
    assert changed                                            # the frame did change something
    assert all(region.contains(QtCore.QRect(x, y, w, h)) for _, x, y, w, h in changed)
    if where == "end":                                        # only the last lines
        first = edit.blockBoundingGeometry(edit.document().firstBlock()).translated(edit.contentOffset())
        assert not region.intersects(first.toAlignedRect())


def test_typing_in_a_line_keeps_one_cache_entry_for_it(qtbot):
    edit = _editor(qtbot)
    colourer = TextColourer(edit)
    cur = edit.textCursor()
    cur.setPosition(30)                                       # in a line on screen
    sizes = []
    for ch in "abcdefghijklmnopqrst":
        cur.insertText(ch)
        colourer.apply(*_frame(colourer))
        colourer.rects(edit.viewport().rect())
        sizes.append(len(colourer._cache))
    block, on_screen = edit.firstVisibleBlock(), 0
    while block.isValid() and edit.blockBoundingGeometry(block).translated(edit.contentOffset()).top() < 320:
        on_screen, block = on_screen + 1, block.next()
    assert max(sizes) <= on_screen                            # an entry per block on screen, no more
    assert colourer.rects(edit.viewport().rect()).keys() == colourer.rects(edit.viewport().rect(), False).keys()

    class Forgetful(dict):                                    # negative control: the old keys are not known
        def __setitem__(self, key, value):
            pass
    colourer._block_keys = Forgetful()
    grown = []
    for ch in "abcdefghij":
        cur.insertText(ch)
        colourer.apply(*_frame(colourer))
        colourer.rects(edit.viewport().rect())
        grown.append(len(colourer._cache))
    assert grown[-1] >= on_screen + 8


def test_posmap_without_astral_characters_needs_no_table():
    for text in ("", "plain ascii", "caf\u00e9 \u4e2d\u6587", "\ud800 lone surrogate"):
        pm = PosMap(text)
        assert pm.doc is None and pm.n == len(text)
        assert pm.to_doc(3) == min(3, len(text)) and pm.to_char(len(text) + 5) == len(text)
    pm = PosMap("a\U0001F600b")                               # negative control: the emoji counts twice
    assert pm.doc is not None and pm.to_doc(2) == 3 and pm.to_char(3) == 2


def test_an_insertion_shifts_runs_in_start_order_as_every_end_would_shift(qtbot):
    """Runs without unknown ones are their own sorted copy: an insertion shifts a tail of the
    starts and of the ends; the same as shifting every position at or after it."""
    edit = _editor(qtbot)
    colourer = TextColourer(edit)
    colourer.apply(*_frame(colourer))
    assert colourer._sorted is colourer._run_array and len(colourer._runs) > 20
    intact = len(colourer._runs)
    for position in (0, 13, int(colourer._runs[len(colourer._runs) // 2, 0]),
                     int(colourer._runs[len(colourer._runs) // 2, 1]), int(colourer._runs[-1, 1]) + 5):
        old = colourer._runs.copy()
        want = np.where(old[:, :2] >= position, old[:, :2] + 2, old[:, :2])
        colourer._on_contents_change(position, 0, 2)
        np.testing.assert_array_equal(colourer._runs[:, :2], want)
        np.testing.assert_array_equal(colourer._starts, want[:, 0])
        np.testing.assert_array_equal(colourer._reach, want[:, 1])
        intact = min(intact, int((old[:, 1] < position).sum()))     # runs no insertion has moved
        assert colourer._intact == intact


def test_a_line_of_few_runs_in_python_equals_numpy(qtbot, monkeypatch):
    """The typed line's rects (few runs, made in Python) equal those of the vectorised path,
    rect for rect, for runs that start, end, cover the newline or touch nothing."""
    from explorer.ui.sequence import textrects
    edit = _editor(qtbot, "abc def  ghi = [1, 2]\nxyz\n")
    block = edit.document().firstBlock()
    line = block.layout().lineAt(0)
    geo = edit.blockBoundingGeometry(block).translated(edit.contentOffset())
    p0, n = block.position(), block.length()
    advance = QtGui.QFontMetricsF(edit.font()).horizontalAdvance(" ")
    half = QtGui.QFontMetrics(edit.font()).horizontalAdvance(" ") // 2
    rng = np.random.default_rng(5)
    for _ in range(40):
        a = np.sort(rng.integers(-3, n + 3, rng.integers(1, 12)))
        b = a + rng.integers(0, 6, len(a))
        levels = rng.integers(-5, 6, len(a))
        got, want = {}, {}
        textrects.even_rects(got, line, geo, p0, n, a, b, levels, advance, half)
        monkeypatch.setattr(textrects, "FEW_RUNS", -1)
        textrects.even_rects(want, line, geo, p0, n, a, b, levels, advance, half)
        monkeypatch.undo()
        assert got == want
    assert sum(len(v) for v in got.values()) > 0
