"""The editor's colour runs painted from the per-block cache equal those computed from scratch.

Every test warms the cache, changes one thing the rectangles depend on, then compares what a
cached paint draws with what an uncached one draws: the rectangles per colour level (in paint
order) and the pixels of a picture. No timing assertions here.
"""

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.textcolour import PosMap, TextColourer

TEXT = ("def f(x):\n    return 'caf\u00e9' + x  # wraps " + "w" * 60
        + "\n\tz = [1, 2]   \n\nabcdefgh\n  a = b  \n\U0001F600 ok\n") * 12


def _editor(qtbot, text: str = TEXT) -> tuple[QtWidgets.QPlainTextEdit, TextColourer]:
    from explorer.ui.sequence.editor import SequenceEditor
    edit = SequenceEditor()
    qtbot.addWidget(edit)
    edit.resize(425, 300)
    edit.setCursorWidth(0)
    edit.setPlainText(text)
    with qtbot.waitExposed(edit):
        edit.show()
    colourer = TextColourer(edit)
    _apply(colourer, edit, seed=1)
    return edit, colourer


def _apply(colourer: TextColourer, edit: QtWidgets.QPlainTextEdit, seed: int) -> None:
    """Colour every character of the editor's text (a new frame, as the lab sends)."""
    text = edit.toPlainText()
    values = np.random.default_rng(seed).uniform(-1, 1, len(text))     # one generator per array:
    values[np.random.default_rng(seed + 1).random(len(text)) < 0.05] = np.nan   # a longer text
    unknown = np.random.default_rng(seed + 2).random(len(text)) < 0.02          # keeps its prefix
    colourer.apply(values, unknown, 0, PosMap(text))


def _rects(colourer: TextColourer, clip: QtCore.QRect | None = None, cached: bool = True) -> dict:
    clip = clip or colourer.editor.viewport().rect()
    got = colourer.rects(clip, cached)
    return {level: [(r.x(), r.y(), r.width(), r.height()) for r in rs] for level, rs in got.items()}


def _picture(colourer: TextColourer, cached: bool) -> bytes:
    vp = colourer.editor.viewport()
    img = QtGui.QImage(vp.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(img)
    colourer.paint(painter, vp.rect(), cached)
    painter.end()
    return bytes(img.constBits())


def _assert_cache_exact(colourer: TextColourer) -> dict:
    """Cached rects and pixels equal the uncached ones (asked twice: a warm cache too)."""
    fresh = _rects(colourer, cached=False)
    assert sum(len(rs) for rs in fresh.values()) > 50
    assert _rects(colourer) == fresh
    assert _rects(colourer) == fresh
    assert _picture(colourer, True) == _picture(colourer, False)
    return fresh


def _visible_blocks(edit: QtWidgets.QPlainTextEdit) -> int:
    block, n, offset = edit.firstVisibleBlock(), 0, edit.contentOffset()
    while block.isValid() and edit.blockBoundingGeometry(block).translated(offset).top() <= edit.viewport().height():
        n, block = n + 1, block.next()
    return n


def test_a_second_paint_with_nothing_changed_recomputes_no_block(qtbot):
    edit, colourer = _editor(qtbot)
    first = _rects(colourer)
    computed = colourer.misses
    assert computed >= _visible_blocks(edit) - 2           # the first paint computed the blocks
    assert _rects(colourer) == first
    assert colourer.misses == computed                     # ... the second reused every one
    _rects(colourer, cached=False)
    assert colourer.misses > computed                      # the uncached path does compute


def test_typing_at_the_end_recomputes_only_the_changed_blocks(qtbot):
    edit, colourer = _editor(qtbot)
    edit.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    edit.ensureCursorVisible()
    _apply(colourer, edit, seed=1)                         # the runs of the window now shown
    _rects(colourer)
    for piece in ("x = f(", "1)  # \U0001F600", "\n\tdone"):
        edit.textCursor().insertText(piece)
        edit.ensureCursorVisible()
        _assert_cache_exact(colourer)                      # runs shifted by the edit, not yet re-applied
        _apply(colourer, edit, seed=1)                     # the new frame: the same values up to the end
        before = colourer.misses
        _rects(colourer)
        assert 0 < colourer.misses - before < _visible_blocks(edit) // 2
        _assert_cache_exact(colourer)


def test_an_edit_in_the_middle_and_a_new_line(qtbot):
    edit, colourer = _editor(qtbot)
    _rects(colourer)
    cur = edit.cursorForPosition(QtCore.QPoint(60, 100))
    cur.insertText("zz\n\tyy ")                            # shifts every later block down a line
    _assert_cache_exact(colourer)
    _apply(colourer, edit, seed=7)
    _assert_cache_exact(colourer)
    cur.deletePreviousChar()
    cur.deletePreviousChar()
    _assert_cache_exact(colourer)


def test_scrolling_reuses_blocks_translated_exactly(qtbot):
    edit, colourer = _editor(qtbot)
    bar = edit.verticalScrollBar()
    for value in (3, 4, 9, 8, bar.maximum(), bar.maximum() - 1, 0):
        _rects(colourer)
        bar.setValue(value)
        _apply(colourer, edit, seed=1)                     # the runs of the window now shown
        before = colourer.misses
        _rects(colourer)
        if value in (4, 8):                                 # a line away: most blocks were seen
            assert colourer.misses - before < _visible_blocks(edit) // 2
        _assert_cache_exact(colourer)


def test_narrower_editor_rewraps_and_a_new_font_size(qtbot):
    edit, colourer = _editor(qtbot)
    wide = _assert_cache_exact(colourer)
    edit.resize(300, 300)
    QtWidgets.QApplication.processEvents()
    narrow = _assert_cache_exact(colourer)
    assert narrow != wide                                   # the lines wrapped elsewhere
    font = edit.font()
    font.setPointSize(13)
    edit.setFont(font)
    edit.setTabStopDistance(4 * QtGui.QFontMetricsF(font).horizontalAdvance(" "))
    QtWidgets.QApplication.processEvents()
    big = _assert_cache_exact(colourer)
    assert big != narrow


def test_a_new_palette_changes_colours_not_rects(qtbot):
    edit, colourer = _editor(qtbot)
    rects, picture = _rects(colourer), _picture(colourer, True)
    colourer.set_palette((30, 90, 220), (230, 140, 20))
    assert _rects(colourer) == rects
    assert _picture(colourer, True) == _picture(colourer, False) != picture


def test_a_partial_clip_paints_only_its_blocks(qtbot):
    edit, colourer = _editor(qtbot)
    full = _rects(colourer)
    clip = QtCore.QRect(0, 120, edit.viewport().width(), 30)
    part = _rects(colourer, clip)
    assert part == _rects(colourer, clip, cached=False)
    ys = [y for rs in part.values() for _, y, _, h in rs]
    assert ys and all(90 <= y <= 160 for y in ys)
    assert sum(map(len, part.values())) < sum(map(len, full.values()))


def test_a_changed_run_changes_the_painted_rects(qtbot):
    """Negative control: one run's level or extent changed in a block the cache holds."""
    edit, colourer = _editor(qtbot)
    before = _rects(colourer)
    runs = colourer._runs.copy()
    top = edit.cursorForPosition(QtCore.QPoint(0, 0)).position()
    i = int(np.flatnonzero((runs[:, 0] >= top) & (runs[:, 2] != 99) & (runs[:, 1] - runs[:, 0] > 1))[0])
    runs[i, 2] = -runs[i, 2]                                # the other colour
    colourer._runs = runs
    flipped = _assert_cache_exact(colourer)
    assert flipped != before
    runs = runs.copy()
    runs[i, 1] -= 1                                         # one character shorter
    colourer._runs = runs
    shorter = _assert_cache_exact(colourer)
    assert shorter != flipped


def test_a_same_length_edit_and_a_same_height_font_are_seen(qtbot):
    """Changes that keep each block's length, runs and height: a tab for a letter (the runs do
    not move), then wider letters in the same line height (letter spacing)."""
    edit, colourer = _editor(qtbot)
    before = _rects(colourer)
    block = edit.document().findBlockByNumber(4)
    assert block.text() == "abcdefgh"
    cur = QtGui.QTextCursor(block)
    cur.setPosition(block.position() + 2)
    cur.setPosition(block.position() + 3, QtGui.QTextCursor.MoveMode.KeepAnchor)
    cur.insertText("\t")
    tabbed = _assert_cache_exact(colourer)
    assert tabbed != before
    font = edit.font()
    font.setLetterSpacing(QtGui.QFont.SpacingType.AbsoluteSpacing, 1.0)
    edit.setFont(font)
    QtWidgets.QApplication.processEvents()
    assert edit.blockBoundingGeometry(block).height() == edit.blockBoundingGeometry(block.next()).height()
    spaced = _assert_cache_exact(colourer)
    assert spaced != tabbed


def test_the_cache_stays_bounded(qtbot, monkeypatch):
    from explorer.ui.sequence import textcolour
    monkeypatch.setattr(textcolour, "_CACHE_LIMIT", 30)
    edit, colourer = _editor(qtbot)
    bar = edit.verticalScrollBar()
    sizes = []
    for value in range(0, bar.maximum() + 1, 3):
        bar.setValue(value)
        _apply(colourer, edit, seed=1)
        _rects(colourer)
        sizes.append(len(colourer._cache))
    assert max(sizes) <= 30 + _visible_blocks(edit) and len(sizes) > 20
    assert _rects(colourer) == _rects(colourer, cached=False)


def test_wrapped_monospace_blocks_computed_together_equal_run_by_run(qtbot, monkeypatch):
    """The fast path for wrapped ASCII blocks (all runs of a line at once) gives the rects and
    pixels of the run-by-run path, at several widths (wraps inside words, after runs of spaces)."""
    text = ("def g(alpha, beta):  # " + "a comment that goes on and on   and on " * 4 + "\n"
            + "    return [alpha * beta for beta in range(10)] + " * 3 + "\n\n"
            + "x" * 150 + "\n" + "short\n") * 6
    edit, colourer = _editor(qtbot, text)
    fast = []
    real = TextColourer._wrapped_rects
    monkeypatch.setattr(TextColourer, "_wrapped_rects", staticmethod(lambda *a: fast.append(1) or real(*a)))
    for width in (425, 333, 260):
        edit.resize(width, 300)
        QtWidgets.QApplication.processEvents()
        _apply(colourer, edit, seed=width)
        fast.clear()
        got, picture = _rects(colourer, cached=False), _picture(colourer, False)
        assert len(fast) >= 3                               # the wrapped blocks took the fast path
        with monkeypatch.context() as m:
            m.setattr(TextColourer, "_even_lines", staticmethod(lambda *a: False))
            assert _rects(colourer, cached=False) == got
            assert _picture(colourer, False) == picture


def test_a_clip_below_the_top_starts_at_the_same_block_as_a_walk_from_the_top(qtbot, monkeypatch):
    """Partial paints start at the block Qt's hit test finds: every clip top (block edges
    included) gives the rects of the walk from the first visible block."""
    edit, colourer = _editor(qtbot)
    edit.verticalScrollBar().setValue(5)
    _apply(colourer, edit, seed=3)
    width, height = edit.viewport().width(), edit.viewport().height()
    clips = [QtCore.QRect(0, y, width, h) for y in range(0, height, 3) for h in (1, 17)]
    got = [_rects(colourer, clip, cached=False) for clip in clips]
    monkeypatch.setattr(colourer, "_first_block", lambda clip, offset: edit.firstVisibleBlock())
    want = [_rects(colourer, clip, cached=False) for clip in clips]
    assert got == want and sum(bool(r) for r in got) > len(clips) // 2
    assert len({str(r) for r in got}) > 20                  # the clips saw different blocks


def test_an_insertion_shifts_the_runs_as_a_fresh_sort_of_them_would(qtbot):
    """Typing moves the runs in place (no re-sort): the same runs, order, reach and levels as
    the slow path (shift every end, sort again), for an insertion before, inside and after them."""
    edit, colourer = _editor(qtbot)
    doc_len = edit.document().characterCount() - 1
    for position in (0, 37, int(colourer._sorted[len(colourer._sorted) // 2, 1]), doc_len - 1, doc_len):
        old = colourer._runs.copy()
        ends = old[:, :2]
        want = TextColourer.__new__(TextColourer)           # the setter on the slowly shifted runs
        want._runs = np.concatenate([np.where(ends >= position, ends + 3, ends), old[:, 2:]], axis=1)
        colourer._on_contents_change(position, 0, 3)
        for name in ("_run_array", "_sorted", "_starts", "_reach"):
            np.testing.assert_array_equal(getattr(colourer, name), getattr(want, name))
        assert colourer._levels == want._levels
        if position < int(old[:, 1].max()):                # negative control: the runs did move
            assert not np.array_equal(colourer._runs, old)
        colourer._runs = old                                 # back, for the next position


def test_an_insertion_shifts_a_single_run_once(qtbot):
    edit, colourer = _editor(qtbot)
    colourer._runs = np.array([[5, 9, 2]], np.int64)
    colourer._on_contents_change(3, 0, 2)
    np.testing.assert_array_equal(colourer._runs, [[7, 11, 2]])
    np.testing.assert_array_equal(colourer._sorted, [[7, 11, 2]])
    assert colourer._starts.tolist() == [7] and colourer._reach.tolist() == [11]
