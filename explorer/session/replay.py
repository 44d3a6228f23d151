"""Replay: the drawing cut at points of pen time, read at each, for "when did it become a 7?"."""

from __future__ import annotations

import numpy as np

from explorer.session.digits import DigitSession
from explorer.session.drawing import DrawingState, Stroke, network_input


def pen_time(strokes: tuple[Stroke, ...]) -> int:
    """Total points drawn (all strokes): the replay's time axis."""
    return int(sum(len(s.points) for s in strokes))


def cut_strokes(strokes: tuple[Stroke, ...], t: int) -> tuple[Stroke, ...]:
    """The strokes as they were after ``t`` points of pen time (partial last stroke)."""
    out, left = [], int(t)
    for s in strokes:
        if left <= 0:
            break
        n = len(s.points)
        out.append(s if n <= left else Stroke(s.points[:left], s.width, s.erase))
        left -= n
    return tuple(out)


def replay(session: DigitSession, steps: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (pen times (S,), probs (S, 10) float32 with NaN rows while nothing is classifiable
    yet, network inputs (S, 28, 28)) of the drawing's pen strokes cut at S points of pen time."""
    strokes = tuple(s for s in session.state.strokes if not s.erase)
    total = pen_time(strokes)
    if total == 0:
        return np.zeros(0, np.int64), np.zeros((0, 10), np.float32), np.zeros((0, 28, 28), np.float32)
    times = np.unique(np.linspace(1, total, min(steps, total)).round().astype(np.int64))
    probs = np.full((len(times), 10), np.nan, np.float32)
    inputs = np.zeros((len(times), 28, 28), np.float32)
    for i, t in enumerate(times):
        x = network_input(DrawingState(cut_strokes(strokes, int(t))))
        if x is not None:
            inputs[i] = x[0, 0]
            probs[i] = session.live_probs(x)
    return times, probs, inputs
