"""Colour the editor's characters by a value per character (QTextEdit.ExtraSelection).

Only the visible part (plus a margin) is coloured, and neighbouring characters that fall in
the same colour step are merged into one selection, so a keystroke stays cheap at any length.
Unknown characters always get a violet background and explain themselves in a tooltip.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.data.vocab import UNKNOWN

STEPS = 5                      # colour steps per sign
UNKNOWN_BG = QtGui.QColor(170, 90, 230, 110)


class PosMap:
    """Python character index <-> QTextDocument position (UTF-16: an emoji counts twice)."""

    def __init__(self, text: str) -> None:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4") if text else np.zeros(0, "<u4")
        astral = cps > 0xFFFF
        self.n = len(cps)
        self.doc = (np.arange(self.n + 1) + np.concatenate([[0], np.cumsum(astral)])) if astral.any() else None

    def to_doc(self, i: int) -> int:
        i = min(max(int(i), 0), self.n)
        return i if self.doc is None else int(self.doc[i])

    def to_char(self, pos: int) -> int:
        if self.doc is None:
            return min(max(int(pos), 0), self.n)
        return int(np.searchsorted(self.doc, pos, side="right") - 1)


def _colour(level: int, positive_rgb: tuple[int, int, int], negative_rgb: tuple[int, int, int]) -> QtGui.QColor:
    rgb = positive_rgb if level > 0 else negative_rgb
    return QtGui.QColor(*rgb, int(200 * abs(level) / STEPS))


class TextColourer:
    """apply(values (T,) in [-1, 1] or None, unknown (T,) bool) on a QPlainTextEdit."""

    def __init__(self, editor: QtWidgets.QPlainTextEdit) -> None:
        self.editor = editor
        self.positive, self.negative = (20, 170, 60), (220, 40, 40)
        self.last: list[QtWidgets.QTextEdit.ExtraSelection] = []
        self._unknown = np.zeros(0, bool)
        self.pos = PosMap("")
        self._unknown_format = QtGui.QTextCharFormat()
        self._unknown_format.setBackground(UNKNOWN_BG)
        self._unknown_format.setToolTip("not in the model's vocabulary: read as the unknown symbol")
        # selections already built, by (first char, end char, colour level); the document keeps
        # their cursors up to date, and an edit drops the ones it may have touched (see below)
        self._cache: dict[tuple[int, int, int | str], tuple[int, QtWidgets.QTextEdit.ExtraSelection]] = {}
        self._formats: dict[int, QtGui.QTextCharFormat] = {}
        editor.viewport().installEventFilter(_UnknownTips(editor, self))
        editor.document().contentsChange.connect(self._on_contents_change)

    def set_palette(self, positive: tuple[int, int, int], negative: tuple[int, int, int]) -> None:
        if (positive, negative) != (self.positive, self.negative):
            self._cache = {k: v for k, v in self._cache.items() if k[2] == "unknown"}
            self._formats.clear()
        self.positive, self.negative = positive, negative

    def _on_contents_change(self, position: int, removed: int, added: int) -> None:
        """An edit at document position `position`: forget every selection reaching it."""
        if removed or added:
            self._cache = {k: v for k, v in self._cache.items() if v[0] < position}

    def visible_range(self, margin: int = 80) -> tuple[int, int]:
        ed = self.editor
        a = ed.cursorForPosition(QtCore.QPoint(0, 0)).position()
        vp = ed.viewport().rect()
        b = ed.cursorForPosition(vp.bottomRight()).position()
        return max(self.pos.to_char(a) - margin, 0), self.pos.to_char(b) + margin

    def apply(self, values: np.ndarray | None, unknown: np.ndarray, offset: int = 0,
              pos: PosMap | None = None) -> None:
        """values[k] colours character offset+k (NaN: not coloured); pos maps characters to the document."""
        doc = self.editor.document()
        self.pos = pos or self.pos
        sels: list[QtWidgets.QTextEdit.ExtraSelection] = []
        lo, hi = self.visible_range()
        self._unknown = unknown
        if values is not None and len(values):
            a, b = max(lo, offset), min(hi, offset + len(values))
            if b > a:
                v = np.nan_to_num(values[a - offset:b - offset], nan=0.0)
                levels = np.clip(np.rint(v * STEPS), -STEPS, STEPS).astype(int)
                cuts = np.flatnonzero(np.diff(levels)) + 1
                starts = np.concatenate([[0], cuts])
                ends = np.concatenate([cuts, [len(levels)]])
                lv_list = levels.tolist()
                for s, e in zip(starts.tolist(), ends.tolist()):
                    if lv_list[s]:
                        sels.append(self._cached(doc, a + s, a + e, lv_list[s]))
        unk = np.asarray(unknown[lo:hi], np.int8)
        if unk.any():                                   # one selection per run of unknown characters
            edges = np.flatnonzero(np.diff(np.concatenate([[0], unk, [0]])))
            for a, b in zip(edges[::2].tolist(), edges[1::2].tolist()):
                sels.append(self._cached(doc, lo + a, lo + b, "unknown"))
        if len(self._cache) > 6000:                     # scrolled through a long text: start afresh
            self._cache = {}
        self.last = sels
        self.editor.setExtraSelections(sels)

    def _cached(self, doc: QtGui.QTextDocument, a: int, b: int, level: int | str
                ) -> QtWidgets.QTextEdit.ExtraSelection:
        hit = self._cache.get((a, b, level))
        if hit is None:
            fmt = self._unknown_format if level == "unknown" else self._format(int(level))
            hit = (self.pos.to_doc(b), self._selection(doc, a, b, fmt))
            self._cache[(a, b, level)] = hit
        return hit[1]

    def _format(self, level: int) -> QtGui.QTextCharFormat:
        fmt = self._formats.get(level)
        if fmt is None:
            fmt = QtGui.QTextCharFormat()
            fmt.setBackground(_colour(level, self.positive, self.negative))
            self._formats[level] = fmt
        return fmt

    def _selection(self, doc: QtGui.QTextDocument, a: int, b: int, fmt: QtGui.QTextCharFormat
                   ) -> QtWidgets.QTextEdit.ExtraSelection:
        sel = QtWidgets.QTextEdit.ExtraSelection()
        cur = QtGui.QTextCursor(doc)
        cur.setPosition(self.pos.to_doc(a))
        cur.setPosition(self.pos.to_doc(b), QtGui.QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cur
        sel.format = fmt
        return sel


class _UnknownTips(QtCore.QObject):
    """Tooltip over an unknown character: what it is and how the model reads it."""

    def __init__(self, editor: QtWidgets.QPlainTextEdit, colourer: TextColourer) -> None:
        super().__init__(editor)
        self.editor, self.colourer = editor, colourer

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if event.type() == QtCore.QEvent.Type.ToolTip:
            doc_pos = self.editor.cursorForPosition(event.pos()).position()  # type: ignore[attr-defined]
            pos = self.colourer.pos.to_char(doc_pos)
            text = self.editor.toPlainText()
            for i in (pos, pos - 1):
                if 0 <= i < len(self.colourer._unknown) and self.colourer._unknown[i] and i < len(text):
                    QtWidgets.QToolTip.showText(
                        event.globalPos(),  # type: ignore[attr-defined]
                        f"U+{ord(text[i]):04X} is not in this model's vocabulary:\n"
                        f"the network reads it as the unknown symbol {UNKNOWN}", self.editor)
                    return True
            QtWidgets.QToolTip.hideText()
            return True
        return False
