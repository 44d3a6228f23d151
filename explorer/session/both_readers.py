"""The drawing read by both readers (the CNN and the pen RNN), varied: stroke order, moves, thickness (no Qt).

``stroke_variants(strokes)``: the same drawing drawn differently — reversed (the last stroke
first, each stroke from its end: ``classify --reverse-strokes``), every other order of its
strokes, and one stroke left out. ``read_variants`` reads each with the CNN (the picture,
through the canvas pipeline) and the pen model (the pen, through ``pen_features``).
Reordering never changes the picture, so the CNN's answer is the same bit for bit.

``sweep_both(transform, strokes, ...)`` moves the drawing itself (shift, scale, rotate about
its centre, in reference units) or thickens the pen (the CNN's rendering pen; the pen
model never sees the ink), and reads every version both ways.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from explorer.data.preprocess import MNIST_PEN_WIDTH, EmptyDrawing, preprocess_strokes
from explorer.engine import Model, softmax
from explorer.session.pen_reader import check_pen_model, read_at_once

F32 = npt.NDArray[np.float32]
Strokes = list[np.ndarray]
MAX_ORDERS = 6            # permutations read (all of them up to 3 strokes)

SWEEPS: dict[str, tuple[str, np.ndarray]] = {
    "shift": ("reference units to the right", np.linspace(-60.0, 60.0, 9)),
    "scale": ("× the size", np.array([0.5, 0.625, 0.75, 0.875, 1.0, 1.25, 1.5, 1.75, 2.0])),
    "rotate": ("degrees", np.linspace(-60.0, 60.0, 9)),
    "thicker": ("× the CNN's pen width", np.array([0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0])),
}


@dataclass(frozen=True)
class Reading:
    """One variant read both ways: cnn / pen (10,) float32 (None: nothing to read)."""

    label: str
    strokes: tuple[np.ndarray, ...]
    cnn: F32 | None
    pen: F32 | None


def reversed_strokes(strokes: Sequence[np.ndarray]) -> Strokes:
    """The last stroke first, each drawn from its end (what ``classify --reverse-strokes`` reads)."""
    return [np.ascontiguousarray(np.asarray(s)[::-1]) for s in strokes[::-1]]


def stroke_variants(strokes: Sequence[np.ndarray], seed: int = 0) -> list[tuple[str, Strokes]]:
    """[(label, strokes)]: as drawn, reversed, other orders, each stroke left out (2+ strokes)."""
    base = [np.asarray(s, np.float32) for s in strokes]
    out: list[tuple[str, Strokes]] = [("as drawn", base), ("reversed", reversed_strokes(base))]
    n = len(base)
    if n >= 2:
        orders = [p for p in itertools.permutations(range(n)) if list(p) != list(range(n))]
        if len(orders) > MAX_ORDERS:
            rng = np.random.default_rng(seed)
            orders = [orders[i] for i in sorted(rng.choice(len(orders), MAX_ORDERS, replace=False))]
        for p in orders:
            out.append((f"order {' '.join(str(i + 1) for i in p)}", [base[i] for i in p]))
        for k in range(n):
            out.append((f"without stroke {k + 1}", base[:k] + base[k + 1:]))
    return out


def cnn_reader(model: Model, pen_width: float | None = None) -> Callable[[Sequence[np.ndarray]], F32 | None]:
    """strokes -> the CNN's (10,) probabilities through the canvas pipeline (None: blank)."""
    def read(strokes: Sequence[np.ndarray]) -> F32 | None:
        try:
            x = preprocess_strokes([np.asarray(s, np.float32) for s in strokes if len(s)], pen_width=pen_width)
        except EmptyDrawing:
            return None
        return np.asarray(softmax(model.forward(x.reshape(1, 1, 28, 28).astype(np.float32)))[0], np.float32)
    return read


def pen_reader(model: Model) -> Callable[[Sequence[np.ndarray]], F32 | None]:
    """strokes -> the pen model's (10,) probabilities after the last pen step (None: no step)."""
    check_pen_model(model)

    def read(strokes: Sequence[np.ndarray]) -> F32 | None:
        probs = read_at_once(model, [s for s in strokes if len(s)])
        return None if not len(probs) else probs[-1]
    return read


def read_variants(strokes: Sequence[np.ndarray], cnn: Model, pen: Model) -> list[Reading]:
    read_cnn, read_pen = cnn_reader(cnn), pen_reader(pen)
    return [Reading(label, tuple(v), read_cnn(v), read_pen(v)) for label, v in stroke_variants(strokes)]


def transformed(strokes: Sequence[np.ndarray], transform: str, value: float) -> Strokes:
    """The drawing moved (about the centre of its points): shift right, scale, rotate (degrees)."""
    pts = [np.asarray(s, np.float64) for s in strokes]
    if transform in ("thicker",) or not pts:
        return [p.astype(np.float32) for p in pts]
    centre = np.concatenate(pts).mean(axis=0)
    if transform == "shift":
        return [(p + [value, 0.0]).astype(np.float32) for p in pts]
    if transform == "scale":
        return [((p - centre) * value + centre).astype(np.float32) for p in pts]
    if transform == "rotate":
        a = np.radians(value)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        return [((p - centre) @ rot.T + centre).astype(np.float32) for p in pts]
    raise ValueError(f"unknown transform {transform!r}; choose one of {', '.join(SWEEPS)}")


def sweep_both(transform: str, strokes: Sequence[np.ndarray], cnn: Model, pen: Model
               ) -> tuple[np.ndarray, F32, F32]:
    """-> (values (V,), cnn probs (V, 10), pen probs (V, 10)); NaN rows: nothing to read."""
    if transform not in SWEEPS:
        raise ValueError(f"unknown transform {transform!r}; choose one of {', '.join(SWEEPS)}")
    values = SWEEPS[transform][1]
    read_pen = pen_reader(pen)
    p_cnn = np.full((len(values), 10), np.nan, np.float32)
    p_pen = np.full((len(values), 10), np.nan, np.float32)
    for i, v in enumerate(values):
        moved = transformed(strokes, transform, float(v))
        width = MNIST_PEN_WIDTH * float(v) if transform == "thicker" else None
        got_cnn, got_pen = cnn_reader(cnn, width)(moved), read_pen(moved)
        if got_cnn is not None:
            p_cnn[i] = got_cnn
        if got_pen is not None:
            p_pen[i] = got_pen
    return values, p_cnn, p_pen
