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
        # their cursors up to date, and a hit is used only if its cursor still spans those characters
        self._cache: dict[tuple[int, int, int | str], QtWidgets.QTextEdit.ExtraSelection] = {}
        self._value_runs = np.zeros((0, 3), np.int64)     # last frame's (start, end, level) runs
        self._value_sels: list[QtWidgets.QTextEdit.ExtraSelection] = []
        self._edit_from: int | None = None
        self._formats: dict[int, QtGui.QTextCharFormat] = {}
        editor.viewport().installEventFilter(_UnknownTips(editor, self))
        editor.document().contentsChange.connect(self._on_contents_change)

    def set_palette(self, positive: tuple[int, int, int], negative: tuple[int, int, int]) -> None:
        if (positive, negative) != (self.positive, self.negative):
            self._cache = {k: v for k, v in self._cache.items() if k[2] == "unknown"}
            self._formats.clear()
            self._value_runs, self._value_sels = np.zeros((0, 3), np.int64), []
        self.positive, self.negative = positive, negative

    def _on_contents_change(self, position: int, removed: int, added: int) -> None:
        """An edit at document position `position`: selections ending after it are not reused blindly."""
        if removed or added:
            self._edit_from = position if self._edit_from is None else min(self._edit_from, position)

    def visible_range(self, margin: int = 80) -> tuple[int, int]:
        ed = self.editor
        a = ed.cursorForPosition(QtCore.QPoint(0, 0)).position()
        vp = ed.viewport().rect()
        b = ed.cursorForPosition(vp.bottomRight()).position()
        return max(self.pos.to_char(a) - margin, 0), self.pos.to_char(b) + margin

    def apply(self, values: np.ndarray | None, unknown: np.ndarray, offset: int = 0,
              pos: PosMap | None = None) -> None:
        """values[k] colours character offset+k (NaN: not coloured); pos maps characters to the document.

        Typing changes the runs at the end only: the leading runs equal to the last frame's (and
        not touched by an edit since) keep their selections; the others come from the cache."""
        doc = self.editor.document()
        self.pos = pos or self.pos
        lo, hi = self.visible_range()
        self._unknown = unknown
        runs = np.zeros((0, 3), np.int64)
        if values is not None and len(values):
            a, b = max(lo, offset), min(hi, offset + len(values))
            if b > a:
                v = np.nan_to_num(values[a - offset:b - offset], nan=0.0)
                levels = np.clip(np.rint(v * STEPS), -STEPS, STEPS).astype(np.int64)
                cuts = np.flatnonzero(np.diff(levels)) + 1
                starts = np.concatenate([[0], cuts])
                ends = np.concatenate([cuts, [len(levels)]])
                keep = levels[starts] != 0
                runs = np.stack([a + starts[keep], a + ends[keep], levels[starts][keep]], axis=1)
        k = self._reusable(runs)
        sels = self._value_sels[:k]
        for a, b, level in runs[k:].tolist():
            sels.append(self._cached(doc, a, b, level))
        self._value_runs, self._value_sels = runs, list(sels)
        self._edit_from = None
        unk = np.asarray(unknown[lo:hi], np.int8)
        if unk.any():                                   # one selection per run of unknown characters
            edges = np.flatnonzero(np.diff(np.concatenate([[0], unk, [0]])))
            for a, b in zip(edges[::2].tolist(), edges[1::2].tolist()):
                sels.append(self._cached(doc, lo + a, lo + b, "unknown"))
        if len(self._cache) > 6000:                     # scrolled through a long text: start afresh
            self._cache = {}
        if len(sels) != len(self.last) or any(x is not y for x, y in zip(reversed(sels), reversed(self.last))):
            self.last = sels
            self.editor.setExtraSelections(sels)

    def _reusable(self, runs: np.ndarray) -> int:
        """How many leading runs equal the last frame's and end before any edit since."""
        prev = self._value_runs
        n = min(len(prev), len(runs))
        if n == 0:
            return 0
        same = np.all(prev[:n] == runs[:n], axis=1)
        k = int(n if same.all() else np.argmin(same))
        if self._edit_from is not None and k:
            ends = runs[:k, 1]
            doc_ends = ends if self.pos.doc is None else self.pos.doc[np.minimum(ends, self.pos.n)]
            k = int(np.searchsorted(doc_ends, self._edit_from, side="left"))
        return k

    def _cached(self, doc: QtGui.QTextDocument, a: int, b: int, level: int | str
                ) -> QtWidgets.QTextEdit.ExtraSelection:
        """The selection colouring characters a..b-1 at `level`: reused when its cursor (which the
        document keeps up to date through edits) still spans exactly those characters."""
        hit = self._cache.get((a, b, level))
        da, db = self.pos.to_doc(a), self.pos.to_doc(b)
        if hit is not None:
            cur = hit.cursor
            if cur.selectionStart() == da and cur.selectionEnd() == db:
                return hit
        fmt = self._unknown_format if level == "unknown" else self._format(int(level))
        hit = self._selection(doc, da, db, fmt)
        self._cache[(a, b, level)] = hit
        return hit

    def _format(self, level: int) -> QtGui.QTextCharFormat:
        fmt = self._formats.get(level)
        if fmt is None:
            fmt = QtGui.QTextCharFormat()
            fmt.setBackground(_colour(level, self.positive, self.negative))
            self._formats[level] = fmt
        return fmt

    def _selection(self, doc: QtGui.QTextDocument, a: int, b: int, fmt: QtGui.QTextCharFormat
                   ) -> QtWidgets.QTextEdit.ExtraSelection:
        """A selection of document positions a..b with format fmt."""
        sel = QtWidgets.QTextEdit.ExtraSelection()
        cur = QtGui.QTextCursor(doc)
        cur.setPosition(a)
        cur.setPosition(b, QtGui.QTextCursor.MoveMode.KeepAnchor)
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
