"""Synthetic pen strokes for ways of writing a digit that MNIST (US census writers) lacks.

Each style draws the digit's centre-lines in a unit box (x right, y down, height 1) with
random shape parameters, places it on a 280 x 280 canvas at a random size and position,
hands it to a random writer (``jitter_strokes``: rotation, slant, aspect, smooth wobble,
point noise, over/undershoot, pen lifts) and renders it through the canvas path itself,
``preprocess_strokes``, with a random pen width. Styles:

- ``1 flag``: a 1 with a long flag at the top (20-65 degrees below horizontal), one stroke
  or two; ``1 flag+base``: the same with a base stroke;
- ``7 crossed``: a 7 with a bar across the stem (sometimes a small serif at the top left);
  ``7 curved``: a 7 whose top and stem are curved (sometimes crossed too);
- ``4 open``: an open-topped 4 (the left arm does not meet the stem);
- ``9 straight``: a 9 whose tail is a straight line down from the loop.

``STYLE_JITTER`` is the writer used in training; ``HELD_OUT_JITTER`` (wider ranges) and a
different seed give the evaluation set (``held_out_styles``), so the figures are not
measured on training samples. Numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.data.augment import StrokeJitter, jitter_strokes
from explorer.data.preprocess import EmptyDrawing, preprocess_strokes

__all__ = ["STYLES", "STYLE_NAMES", "Writer", "WRITER_HAND", "STYLE_JITTER", "HELD_OUT_JITTER", "HELD_OUT_SEED",
           "StyleSampler", "style_strokes", "render_styles", "held_out_styles", "densify"]

Lines = list[np.ndarray]
CANVAS = 280
STYLE_JITTER = StrokeJitter(rotation=10.0, shear=0.25, aspect=(0.85, 1.15), wobble=0.012,
                            noise=0.003, end=(-0.03, 0.04), p_lift=0.1, pen=(1.8, 3.2))
# the evaluation writer: wider slant/rotation/aspect/wobble ranges than training, and pens
HELD_OUT_JITTER = StrokeJitter(rotation=14.0, shear=0.32, aspect=(0.8, 1.2), wobble=0.018,
                               noise=0.004, end=(-0.04, 0.05), p_lift=0.15, pen=(1.6, 3.4))
HELD_OUT_SEED = 20261130


def densify(points: np.ndarray | list[Any], step: float = 0.025) -> np.ndarray:
    """(K, 2) polyline -> (K', 2) with points at most ``step`` apart (as a pen samples it)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    out = [p[:1]]
    for a, b in zip(p[:-1], p[1:]):
        n = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
        t = np.linspace(0.0, 1.0, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.concatenate(out)


def _arc(cx: float, cy: float, rx: float, ry: float, deg0: float, deg1: float,
         n: int = 28) -> np.ndarray:
    """Points on an ellipse from deg0 to deg1 (0 = right, 90 = down) -> (n, 2)."""
    t = np.radians(np.linspace(deg0, deg1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _bezier(p0: Any, p1: Any, p2: Any, n: int = 16) -> np.ndarray:
    """Quadratic Bezier curve through p0 -> p2 pulled towards p1 -> (n, 2)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    p0, p1, p2 = (np.asarray(p, np.float64) for p in (p0, p1, p2))
    return np.asarray((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2)


def _one(rng: np.random.Generator, base: bool) -> Lines:
    top = np.array([0.5 + rng.uniform(-0.05, 0.05), 0.0])
    bottom = np.array([top[0] - rng.uniform(-0.06, 0.1), 1.0])
    angle = np.radians(rng.uniform(20.0, 65.0))              # flag, below the horizontal
    length = rng.uniform(0.2, 0.45)
    flag = top + length * np.array([-np.cos(angle), np.sin(angle)])
    bend = rng.uniform(-0.05, 0.05)                          # a slightly bowed flag
    flag_line = _bezier(flag, (flag + top) / 2 + [bend, -abs(bend)], top, 10)
    if rng.random() < 0.65:                                  # flag and stem in one stroke
        lines = [np.vstack([flag_line, densify([top, bottom])[1:]])]
    else:
        lines = [densify([top, bottom]), flag_line]
    if base:
        half = rng.uniform(0.15, 0.32)
        y = 1.0 + rng.uniform(-0.02, 0.03)
        tilt = rng.uniform(-0.03, 0.03)
        left = bottom[0] - half * rng.uniform(0.8, 1.25)
        right = bottom[0] + half * rng.uniform(0.8, 1.25)
        lines.append(densify([[left, y - tilt], [right, y + tilt]]))
    return lines


def _seven(rng: np.random.Generator, curved: bool, crossed: bool) -> Lines:
    left = np.array([rng.uniform(0.05, 0.2), rng.uniform(0.0, 0.06)])
    corner = np.array([rng.uniform(0.8, 0.95), rng.uniform(0.0, 0.06)])
    foot = np.array([rng.uniform(0.3, 0.55), 1.0])
    if curved:
        sag = rng.uniform(-0.1, 0.06)                          # top bar bows up (<0) or down
        top = _bezier(left, (left + corner) / 2 + [0.0, sag], corner, 14)
        pull = rng.uniform(0.05, 0.2)                          # stem curves like a ')'
        mid = (corner + foot) / 2 + [pull, 0.0]
        stem = _bezier(corner, mid, foot, 18)
        body = np.vstack([top, stem[1:]])
    else:
        body = densify([left, corner, foot])
    if rng.random() < 0.35:                                    # a small serif down at the left
        serif = left + [rng.uniform(-0.04, 0.02), rng.uniform(0.08, 0.16)]
        body = np.vstack([densify([serif, left]), body[1:]])
    lines = [body]
    if crossed:
        y = rng.uniform(0.42, 0.6)
        k = int(np.argmin(np.abs(body[:, 1] - y) + 10.0 * (body[:, 1] < corner[1] + 0.1)))
        x = body[k, 0]
        w = rng.uniform(0.14, 0.26)
        lines.append(densify([[x - w * rng.uniform(0.9, 1.3), y + rng.uniform(-0.03, 0.03)],
                              [x + w * rng.uniform(0.8, 1.2), y + rng.uniform(-0.03, 0.03)]]))
    return lines


def _four_open(rng: np.random.Generator) -> Lines:
    arm_top = np.array([rng.uniform(0.12, 0.35), rng.uniform(0.0, 0.12)])
    y_bar = rng.uniform(0.52, 0.7)
    elbow = np.array([arm_top[0] - rng.uniform(-0.05, 0.1), y_bar])
    bar_end = np.array([rng.uniform(0.85, 1.0), y_bar + rng.uniform(-0.04, 0.03)])
    stem_x = rng.uniform(0.6, 0.78)
    stem = densify([[stem_x + rng.uniform(-0.03, 0.05), rng.uniform(0.0, 0.18)],
                    [stem_x - rng.uniform(-0.02, 0.06), 1.0]])
    arm = densify([arm_top, elbow, bar_end])
    return [arm, stem] if rng.random() < 0.8 else [stem, arm]


def _nine_straight(rng: np.random.Generator) -> Lines:
    rx, ry = rng.uniform(0.26, 0.36), rng.uniform(0.18, 0.27)
    cx, cy = 0.5 + rng.uniform(-0.05, 0.03), ry + rng.uniform(0.0, 0.04)
    start = rng.uniform(-15.0, 10.0)
    loop = _arc(cx, cy, rx, ry, start, start - 360.0 - rng.uniform(0.0, 20.0), 34)
    joint = np.array([cx + rx * rng.uniform(0.85, 1.02), cy + ry * rng.uniform(0.0, 0.3)])
    tail_end = np.array([joint[0] - rng.uniform(-0.04, 0.12), 1.0])
    tail = densify([joint, tail_end])
    if rng.random() < 0.7:
        return [np.vstack([loop, tail])]
    return [loop, tail]


STYLES: dict[str, tuple[int, Callable[[np.random.Generator], Lines]]] = {
    "1 flag": (1, lambda r: _one(r, base=False)),
    "1 flag+base": (1, lambda r: _one(r, base=True)),
    "7 crossed": (7, lambda r: _seven(r, curved=False, crossed=True)),
    "7 curved": (7, lambda r: _seven(r, curved=True, crossed=r.random() < 0.3)),
    "4 open": (4, _four_open),
    "9 straight": (9, _nine_straight),
}
STYLE_NAMES = tuple(STYLES)


def style_strokes(name: str, rng: np.random.Generator) -> Lines:
    """One digit in style ``name`` as unjittered canvas strokes: list of (K, 2) (x, y) in px."""
    if name not in STYLES:
        raise ValueError(f"unknown style {name!r}; choose one of {', '.join(STYLE_NAMES)}")
    lines = STYLES[name][1](rng)
    size = rng.uniform(90.0, 230.0)                            # digit height on the canvas
    pts = np.concatenate(lines)
    lo, hi = pts.min(axis=0) * size, pts.max(axis=0) * size
    room = np.maximum(CANVAS - (hi - lo), 0.0)
    offset = rng.uniform(0.0, 1.0, 2) * room - lo
    return [p * size + offset for p in lines]


@dataclass(frozen=True)
class StyleSampler:
    """Draw ``n`` random style digits -> (x (n, 1, 28, 28) float32, y (n,) int64, style index).

    Styles are picked uniformly among ``names``; every digit by a writer from ``jitter``.
    """

    names: tuple[str, ...] = STYLE_NAMES
    jitter: StrokeJitter = STYLE_JITTER

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        which = rng.integers(0, len(self.names), n)
        return self.render(which, rng)

    def render(self, which: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """which: (n,) indices into ``names`` -> (x, y, which)."""
        which = np.asarray(which, np.int64)
        x = np.zeros((len(which), 1, 28, 28), np.float32)
        y = np.array([STYLES[self.names[i]][0] for i in which], np.int64)
        for j, i in enumerate(which):
            for _ in range(3):                                 # a blank render is retried
                lines = jitter_strokes(style_strokes(self.names[i], rng), rng, self.jitter)
                try:
                    x[j] = preprocess_strokes(lines, pen_width=rng.uniform(*self.jitter.pen))
                    break
                except EmptyDrawing:
                    continue
        return x, y, which


def render_styles(names: tuple[str, ...] | list[str], per_style: int, seed: int,
                  jitter: StrokeJitter = STYLE_JITTER) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``per_style`` digits of each style (seeded) -> (x (N, 1, 28, 28), y (N,), style index)."""
    sampler = StyleSampler(tuple(names), jitter)
    which = np.repeat(np.arange(len(names)), per_style)
    return sampler.render(which, np.random.default_rng(seed))


def held_out_styles(per_style: int = 200, seed: int = HELD_OUT_SEED,
                    jitter: StrokeJitter | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evaluation set: every style, another seed and a wider writer than training."""
    return render_styles(STYLE_NAMES, per_style, seed, jitter or HELD_OUT_JITTER)



# -- one writer: the same hand every time (for "my examples" experiments and tests) --------
def _zero(rng: np.random.Generator) -> Lines:
    rx, start = rng.uniform(0.28, 0.4), rng.uniform(-110.0, -70.0)
    return [_arc(0.5, 0.5, rx, 0.49, start, start - 360.0 - rng.uniform(0, 25), 40)]


def _two(rng: np.random.Generator) -> Lines:
    top = _arc(0.48, 0.28, rng.uniform(0.26, 0.34), 0.26, 195.0, 365.0, 20)
    foot = np.array([rng.uniform(0.08, 0.2), 0.97])
    return [np.vstack([top, densify([top[-1], foot, [rng.uniform(0.8, 0.95), 0.98]])[1:]])]


def _three(rng: np.random.Generator) -> Lines:
    up = _arc(0.47, 0.26, rng.uniform(0.28, 0.34), 0.25, 200.0, 450.0, 24)[:-2]
    low = _arc(0.45, 0.74, rng.uniform(0.32, 0.4), 0.25, -90.0, 160.0, 24)
    return [np.vstack([up, low])]


def _five(rng: np.random.Generator) -> Lines:
    corner = np.array([rng.uniform(0.18, 0.3), 0.03])
    neck = np.array([corner[0] - rng.uniform(0.0, 0.06), 0.45])
    bowl = _arc(0.48, 0.68, rng.uniform(0.32, 0.38), 0.3, -120.0, 150.0, 26)
    return [np.vstack([densify([neck, corner]), densify([corner, [0.85, 0.03]])[1:]]),
            np.vstack([densify([neck, bowl[0]]), bowl[1:]])]


def _six(rng: np.random.Generator) -> Lines:
    hook = _arc(0.72, 0.6, 0.52, 0.58, -90.0, -180.0, 12)
    hook[:, 0] += rng.uniform(-0.05, 0.05)
    loop = _arc(0.5, 0.72, rng.uniform(0.28, 0.34), 0.27, 180.0, 540.0, 30)
    return [np.vstack([hook, loop[1:]])]


def _eight(rng: np.random.Generator) -> Lines:
    a = _arc(0.5, 0.25, rng.uniform(0.24, 0.3), 0.23, -30.0, 90.0, 10)
    b = _arc(0.5, 0.73, rng.uniform(0.3, 0.36), 0.25, -90.0, 270.0, 30)
    c = _arc(0.5, 0.25, 0.27, 0.23, 90.0, 330.0, 20)
    return [np.vstack([a, b, c])]


# a continental hand: flagged 1 with a base, open 4, crossed 7, straight-tailed 9
WRITER_HAND: dict[int, Callable[[np.random.Generator], Lines]] = {
    0: _zero, 1: lambda r: _one(r, base=True), 2: _two, 3: _three, 4: _four_open, 5: _five,
    6: _six, 7: lambda r: _seven(r, curved=False, crossed=True), 8: _eight, 9: _nine_straight}
# how much one person's digits vary between repetitions
WRITER_JITTER = StrokeJitter(rotation=5.0, shear=0.08, aspect=(0.93, 1.07), wobble=0.012,
                             noise=0.003, end=(-0.03, 0.04), p_lift=0.05, pen=(2.0, 2.8))


class Writer:
    """One person's hand, fixed by ``seed``: a template per digit (shape, slant, aspect)
    from ``WRITER_HAND``; ``sample(digit, n, rng)`` -> (n, 1, 28, 28) repetitions, each
    with the small variation ``WRITER_JITTER``, and the strokes that drew them."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 12])
        slant, aspect = rng.uniform(-0.3, 0.3), rng.uniform(0.8, 1.15)
        mat = np.array([[aspect, -slant], [0.0, 1.0]])
        self.templates = {d: [p @ mat.T * 200.0 + 40.0 for p in make(rng)]
                          for d, make in WRITER_HAND.items()}

    def sample_strokes(self, digit: int, rng: np.random.Generator) -> Lines:
        return jitter_strokes(self.templates[digit], rng, WRITER_JITTER)

    def sample(self, digit: int, n: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, list[Lines]]:
        xs, lines = [], []
        for _ in range(n):
            s = self.sample_strokes(digit, rng)
            xs.append(preprocess_strokes(s, pen_width=rng.uniform(*WRITER_JITTER.pen)))
            lines.append(s)
        return np.stack(xs).astype(np.float32), lines
