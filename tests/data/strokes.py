"""Hand-made digits 0-9 as pen strokes, for preprocessing tests and (later) classification tests.

Each digit style is a list of polylines in a unit box: x to the right, y downwards, as a
person would write it (stroke order and direction included). ``variants(digit)`` places
every style on a 280x280 canvas at several sizes, positions and pen widths, densified to
the spacing of mouse events (~3 px), as the drawing canvas would record it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

CANVAS = 280

Polyline = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, deg0: float, deg1: float,
        n: int = 24) -> Polyline:
    """Points on an ellipse from angle deg0 to deg1 (degrees, 0 = right, 90 = down)."""
    t = np.radians(np.linspace(deg0, deg1, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


# digit -> list of styles; a style is a list of strokes (polylines in the unit box)
STYLES: dict[int, list[list[Polyline]]] = {
    0: [
        [arc(0.5, 0.5, 0.33, 0.48, -90, -450, 40)],                         # round, anticlockwise
        [arc(0.52, 0.5, 0.26, 0.48, -100, 265, 40)],                        # narrow, clockwise
    ],
    1: [
        [[(0.52, 0.02), (0.48, 0.98)]],                                     # single bar
        [[(0.3, 0.22), (0.55, 0.02), (0.55, 0.98)]],                        # with a flag
    ],
    2: [
        [arc(0.48, 0.3, 0.3, 0.28, 200, 370, 20)[:-1]
         + [(0.76, 0.38), (0.5, 0.68), (0.15, 0.97), (0.88, 0.97)]],        # classic
        [arc(0.5, 0.28, 0.32, 0.26, 190, 385, 22) + [(0.12, 0.98), (0.9, 0.96)]],
    ],
    3: [
        [arc(0.47, 0.27, 0.33, 0.25, 200, 450, 24)[:-2]
         + arc(0.45, 0.74, 0.38, 0.25, -90, 160, 24)],                      # two bowls
        [[(0.12, 0.04), (0.85, 0.04), (0.45, 0.45)]
         + arc(0.48, 0.71, 0.37, 0.27, -80, 160, 24)],                      # flat top
    ],
    4: [
        [[(0.55, 0.0), (0.08, 0.66), (0.92, 0.66)], [(0.68, 0.32), (0.68, 1.0)]],   # closed
        [[(0.2, 0.0), (0.12, 0.55), (0.88, 0.55)], [(0.75, 0.05), (0.72, 1.0)]],    # open
    ],
    5: [
        [[(0.82, 0.02), (0.25, 0.03), (0.2, 0.45)]
         + arc(0.48, 0.68, 0.36, 0.3, -120, 150, 26)],                      # one stroke
        [[(0.25, 0.02), (0.2, 0.45)] + arc(0.48, 0.68, 0.36, 0.3, -120, 150, 26),
         [(0.25, 0.03), (0.85, 0.03)]],                                     # hat added after
    ],
    6: [
        [[(0.72, 0.02)] + arc(0.72, 0.6, 0.52, 0.58, -90, -180, 12)[1:]
         + arc(0.5, 0.7, 0.32, 0.28, 180, 540, 30)[1:]],                    # hook + loop
    ],
    7: [
        [[(0.1, 0.04), (0.9, 0.04), (0.38, 1.0)]],
        [[(0.08, 0.12), (0.18, 0.03), (0.9, 0.05), (0.55, 0.5), (0.42, 1.0)],
         [(0.35, 0.5), (0.75, 0.5)]],                                       # crossed
    ],
    8: [
        [arc(0.5, 0.25, 0.27, 0.23, -30, 90, 10) + arc(0.5, 0.73, 0.33, 0.25, -90, 270, 30)
         + arc(0.5, 0.25, 0.27, 0.23, 90, 330, 20)],                        # one stroke
        [arc(0.5, 0.26, 0.3, 0.24, 0, 360, 28), arc(0.5, 0.74, 0.34, 0.25, 0, 360, 28)],
    ],
    9: [
        [arc(0.45, 0.3, 0.32, 0.27, -10, -370, 34) + [(0.76, 0.4), (0.7, 1.0)]],  # loop + tail
        [arc(0.45, 0.3, 0.32, 0.27, 0, -360, 34)[1:]
         + arc(0.25, 0.3, 0.52, 0.7, 0, 90, 10)],                           # curved tail
    ],
}


@dataclass(frozen=True)
class Variant:
    """One placement of a digit style on the canvas."""

    digit: int
    style: int
    strokes: list[np.ndarray]     # each (K, 2) float64 canvas (x, y)
    pen_width: float              # canvas pen width in px
    name: str


def densify(line: np.ndarray, step: float = 3.0) -> np.ndarray:
    """(K, 2) polyline -> (K', 2) with points every ~``step`` px, like mouse-move events."""
    if len(line) < 2:
        return line
    out = [line[:1]]
    for a, b in zip(line[:-1], line[1:]):
        n = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def place(style: list[Polyline], size: float, centre: tuple[float, float],
          slant: float = 0.0, aspect: float = 0.75) -> list[np.ndarray]:
    """Unit-box strokes -> canvas strokes, ``size`` px tall, box width ``aspect * size``."""
    strokes = []
    for line in style:
        p = np.asarray(line, dtype=np.float64) - 0.5
        p[:, 0] = p[:, 0] * aspect - slant * p[:, 1]
        strokes.append(densify(p * size + np.asarray(centre)))
    return strokes


# (name, height px, centre, pen width px, slant)
PLACEMENTS = [
    ("centred large", 220.0, (140.0, 140.0), 18.0, 0.0),
    ("small top-left", 80.0, (60.0, 60.0), 18.0, 0.0),
    ("small bottom-right thin pen", 90.0, (215.0, 205.0), 6.0, 0.0),
    ("medium thick pen", 150.0, (130.0, 150.0), 32.0, 0.0),
    ("medium slanted", 170.0, (150.0, 135.0), 14.0, 0.25),
]


def variants(digit: int) -> Iterator[Variant]:
    """Every style of ``digit`` at every placement in PLACEMENTS, on a 280x280 canvas."""
    for k, style in enumerate(STYLES[digit]):
        for name, size, centre, pen, slant in PLACEMENTS:
            yield Variant(digit, k, place(style, size, centre, slant), pen, f"{digit}/{k} {name}")


def all_variants() -> Iterator[Variant]:
    """variants(d) for d = 0..9."""
    for d in range(10):
        yield from variants(d)
