"""The public queries that replaced reads of other objects' private state: the Sequence Lab's
is_idle(), the text colourer's is_unknown(), and the mosaic's own edit marks."""

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.sequence import SequenceLab
from explorer.ui.sequence.paste import LONG
from explorer.ui.sequence.textcolour import PosMap, TextColourer
from explorer.ui.widgets.mosaic import MosaicView


def test_sequence_lab_is_idle_only_once_a_long_text_is_in(qtbot):
    lab = SequenceLab()
    qtbot.addWidget(lab)
    with qtbot.waitExposed(lab):
        lab.show()
    lab.use_session(SequenceSession(random_model("GRU", hidden=4, seed=1), name="t"), key=None, label="t")
    qtbot.waitUntil(lab.is_idle, timeout=20000)
    text = ("x = f(y) + 1\n" * (3 * LONG // 13 + 1))[:3 * LONG]
    lab.replace_text(text)                               # streams in, in pieces
    assert lab.editor.pieces.busy and not lab.is_idle()
    qtbot.waitUntil(lab.is_idle, timeout=60000)
    assert lab.editor.toPlainText() == text and lab.session is not None and lab.session.text == text
    assert not lab.editor.pieces.busy and lab.session.pending == 0


def test_colourer_says_which_characters_are_unknown(qtbot):
    edit = QtWidgets.QPlainTextEdit()
    qtbot.addWidget(edit)
    text = "héllo wörld"
    edit.setPlainText(text)
    colourer = TextColourer(edit)
    unknown = np.array([ch not in "helo wrd" for ch in text])
    colourer.apply(None, unknown, 0, PosMap(text))
    assert [colourer.is_unknown(i) for i in range(len(text))] == unknown.tolist()
    assert unknown.any() and not unknown.all()            # both answers are exercised
    assert not colourer.is_unknown(-1) and not colourer.is_unknown(len(text))


def test_mosaic_marks_crossed_and_outlined_tiles(qtbot):
    view = MosaicView(6, 5, 7, 3)
    qtbot.addWidget(view)
    red, purple = pg.mkPen("r"), pg.mkPen("m")
    view.mark_tiles([4, 9], [2, -1], red, purple)        # 9 and -1: no such tile, skipped
    crossed, outlined = view.crossed_marks, view.outlined_marks
    assert crossed is not None and outlined is not None
    r, c = divmod(4, 3)
    assert crossed.boundingRect() == QtCore.QRectF(c * 8, r * 6, 7, 5)   # tile 4 only (gap 1)
    assert crossed.elementCount() == 9                   # its rectangle (5) and two diagonals (4)
    assert outlined.boundingRect() == QtCore.QRectF(2 * 8, 0, 7, 5)
    assert outlined.elementCount() == 5
    assert view.cross_pen.color() == red.color() and view.outline_pen.color() == purple.color()
    view.mark_tiles([], [0], red, purple)                # new marks replace the old ones
    assert view.crossed_marks is not None and view.crossed_marks.elementCount() == 0
    assert view.outlined_marks is not None and view.outlined_marks.boundingRect() == QtCore.QRectF(0, 0, 7, 5)
