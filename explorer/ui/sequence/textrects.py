"""Where the editor's colour runs fall on screen, for the monospace cases computed per block
at once (``TextColourer`` falls back to asking Qt per run for anything else)."""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from PySide6 import QtCore, QtGui


def x_at(line: QtGui.QTextLine, i: int) -> float:
    """The x of character position i on the line (PySide6 returns cursorToX's (x, position)
    pair; its stub says object)."""
    return cast(tuple[float, int], line.cursorToX(i))[0]


def even_line(block: QtGui.QTextBlock, layout: QtGui.QTextLayout, advance: float) -> bool:
    """One line of printable ASCII without tabs, every character ``advance`` wide (the
    monospace case): positions follow from the column, no call per run is needed."""
    if layout.lineCount() != 1:
        return False
    text = block.text()
    if not text.isascii() or not text.isprintable():
        return False
    line = layout.lineAt(0)
    return bool(x_at(line, len(text)) == line.x() + len(text) * advance)

def even_lines(block: QtGui.QTextBlock, layout: QtGui.QTextLayout, advance: float) -> bool:
    """A wrapped block of printable ASCII without tabs, every line starting at its x and each
    character ``advance`` wide (the monospace case of a long line)."""
    if layout.lineCount() < 2:
        return False
    text = block.text()
    if not text.isascii() or not text.isprintable():
        return False
    for li in range(layout.lineCount()):
        line = layout.lineAt(li)
        la, m, x = line.textStart(), line.textLength(), line.x()
        if x_at(line, la) != x or x_at(line, la + m) != x + m * advance:
            return False
    return True

def wrapped_rects(rects: dict[int, list[QtCore.QRect]], layout: QtGui.QTextLayout, geo: QtCore.QRectF,
                   p0: int, n: int, seg: np.ndarray, advance: float, half: int) -> None:
    """The rects of the runs ``seg`` in an even wrapped block, line by line for all runs at
    once: the numbers ``TextColourer._block_rects`` computes run by run (same order: by run, then line)."""
    a, b = np.maximum(seg[:, 0] - p0, 0), np.minimum(seg[:, 1] - p0, n)
    left, count = geo.left(), layout.lineCount()
    los, his, keeps, rows = [], [], [], []
    for li in range(count):
        line = layout.lineAt(li)
        la, lb, x = line.textStart(), line.textStart() + line.textLength(), line.x()
        sa, sb = np.maximum(a, la), np.minimum(b, lb)
        x0, x1 = x + (sa - la) * advance, x + (sb - la) * advance
        if li < count - 1:                          # a wrap's trailing spaces: not drawn
            x1 = np.minimum(x1, x + line.naturalTextWidth())
        chars = (sb > sa) & (x1 > x0)
        lo, hi = np.floor(left + x0), np.ceil(left + x0 + (x1 - x0))
        if li == count - 1:                         # the newline: half a space, as Qt
            newline = (b > lb) & (lb >= a)
            nl = left + np.floor(x + (lb - la) * advance + 0.5)
            nl_lo, nl_hi = np.floor(nl), np.ceil(nl + half)
            lo = np.where(chars, np.where(newline, np.minimum(lo, nl_lo), lo), nl_lo)
            hi = np.where(chars, np.where(newline, np.maximum(hi, nl_hi), hi), nl_hi)
            chars = chars | newline
        top = geo.top() + line.y()
        los.append(lo)
        his.append(hi)
        keeps.append(chars)
        rows.append((int(np.floor(top)), int(np.ceil(top + line.height()))))
    run, on = np.nonzero(np.stack(keeps, 1))        # by run, then line
    xs0, xs1 = np.stack(los, 1)[run, on].astype(np.int64), np.stack(his, 1)[run, on].astype(np.int64)
    ys = np.array(rows, np.int64)[on]
    for level, x, right, y0, y1 in zip(seg[run, 2].tolist(), xs0.tolist(), xs1.tolist(),
                                       ys[:, 0].tolist(), ys[:, 1].tolist()):
        rects.setdefault(level, []).append(QtCore.QRect(x, y0, right - x, y1 - y0))

def even_rects(rects: dict[int, list[QtCore.QRect]], line: QtGui.QTextLine, geo: QtCore.QRectF,
                p0: int, n: int, starts: np.ndarray, ends: np.ndarray, levels: np.ndarray,
                advance: float, half: int) -> None:
    """The rects of the runs in an even line, computed together (as ``TextColourer`` does one by one)."""
    if len(starts) <= FEW_RUNS:
        _even_rects_few(rects, line, geo, p0, n, starts, ends, levels, advance, half)
        return
    a, b = np.maximum(starts - p0, 0), np.minimum(ends - p0, n)
    lb = n - 1                                         # the newline's position
    left0 = geo.left() + line.x()
    sb = np.minimum(b, lb)
    x0, x1 = left0 + a * advance, left0 + sb * advance
    chars = (b > a) & (sb > a)
    lo, hi = np.floor(x0), np.ceil(x1)
    newline = (b > a) & (b > lb) & (lb >= a)
    nl_lo = np.floor(left0 + lb * advance + 0.5)
    lo = np.where(chars, np.where(newline, np.minimum(lo, nl_lo), lo), nl_lo)
    hi = np.where(chars, np.where(newline, np.maximum(hi, nl_lo + half), hi), nl_lo + half)
    top = geo.top() + line.y()
    y0, y1 = int(np.floor(top)), int(np.ceil(top + line.height()))
    for keep, x, right, level in zip((chars | newline).tolist(), lo.tolist(), hi.tolist(), levels.tolist()):
        if keep:
            rects.setdefault(level, []).append(QtCore.QRect(int(x), y0, int(right - x), y1 - y0))


FEW_RUNS = 24      # a line with up to this many runs (the typed line) is done in Python: fewer calls


def _even_rects_few(rects: dict[int, list[QtCore.QRect]], line: QtGui.QTextLine, geo: QtCore.QRectF,
                    p0: int, n: int, starts: np.ndarray, ends: np.ndarray, levels: np.ndarray,
                    advance: float, half: int) -> None:
    """``even_rects`` run by run in Python: the same float64 operations, so the same rects."""
    lb = n - 1                                         # the newline's position
    left0 = geo.left() + line.x()
    top = geo.top() + line.y()
    y0, y1 = math.floor(top), math.ceil(top + line.height())
    nl_lo = math.floor(left0 + lb * advance + 0.5)
    for start, end, level in zip(starts.tolist(), ends.tolist(), levels.tolist()):
        a, b = max(start - p0, 0), min(end - p0, n)
        sb = min(b, lb)
        chars = b > a and sb > a
        newline = b > a and b > lb >= a
        if chars:
            lo, hi = math.floor(left0 + a * advance), math.ceil(left0 + sb * advance)
            if newline:
                lo, hi = min(lo, nl_lo), max(hi, nl_lo + half)
        elif newline:
            lo, hi = nl_lo, nl_lo + half
        else:
            continue
        rects.setdefault(level, []).append(QtCore.QRect(lo, y0, hi - lo, y1 - y0))
