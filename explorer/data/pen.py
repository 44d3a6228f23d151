"""A drawing as pen events: the causal encoding the pen RNNs read (numpy only).

Coordinates are the Digit Lab's reference canvas units (a 280 x 280 square, y down); a
stroke file's points, drawn on a canvas W pixels wide, are scaled by 280 / W first
(``to_reference``). Each stroke is resampled by arc length every ``spec.spacing`` units
(so how fast the pen moved, and how often the tablet or mouse sampled it, does not
matter), and every resampled pen step becomes one feature row:

- ``dx, dy``   pen-down movement since the previous step, divided by ``spacing`` (a unit
               vector along a straight line, shorter on a bend); 0 on the other rows;
- ``jx, jy``   on the row where the pen goes down: the pen-up jump from where it was
               lifted, divided by ``jump_scale`` (0 for the first stroke);
- ``start``    1 on the row where the pen goes down;
- ``lift``     1 on the row emitted when the pen is lifted (a stroke's last partial step,
               if at least half a spacing long, is emitted just before it).

Nothing here looks at the finished drawing (no bounding box, no centring): a row depends
only on the pen events before it, so the reading can run while the pen moves, and rows
already handed out never change (``PenStream``). ``pen_features`` is the same encoder
fed all at once, bit for bit. Size and position are not normalised away: a pen model
learns them from training drawings placed at many sizes and places on the canvas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from explorer.errors import ExplorerError

__all__ = ["FEATURES", "REF", "PenSpec", "PenSpecError", "PenStream", "is_pen_model",
           "pen_features", "to_reference"]

F32 = npt.NDArray[np.float32]
REF = 280                  # the reference canvas side (explorer.session.drawing.REF)
FEATURES = ("dx", "dy", "jx", "jy", "start", "lift")
ENCODING = "pen-steps-v1"
_EMPTY = np.zeros((0, len(FEATURES)), np.float32)


class PenSpecError(ExplorerError, ValueError):
    """A pen encoding description (a pen model's ``meta["pen"]``) that this code cannot use."""


@dataclass(frozen=True)
class PenSpec:
    """Everything the encoding needs: resampling spacing and the jump scale (reference units)."""

    spacing: float = 10.0      # arc length between two pen steps
    jump_scale: float = 100.0  # a pen-up jump of this length reads as 1.0
    features: tuple[str, ...] = FEATURES
    canvas: int = REF

    def __post_init__(self) -> None:
        for name in ("spacing", "jump_scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not 0.5 <= value <= 1000.0:
                raise PenSpecError(f"pen encoding: {name} must be a number between 0.5 and "
                                   f"1000 reference units, got {value!r}")
        if tuple(self.features) != FEATURES:
            raise PenSpecError(f"pen encoding: features must be {list(FEATURES)}, "
                               f"got {list(self.features)!r}")
        if self.canvas != REF:
            raise PenSpecError(f"pen encoding: canvas must be {REF}, got {self.canvas!r}")

    @property
    def n_features(self) -> int:
        return len(self.features)

    def to_meta(self) -> dict[str, Any]:
        """A JSON-able dict (stored as a pen model file's ``meta["pen"]``)."""
        return {"encoding": ENCODING, "spacing": float(self.spacing),
                "jump_scale": float(self.jump_scale), "features": list(self.features),
                "canvas": int(self.canvas)}

    @classmethod
    def from_meta(cls, d: Any) -> PenSpec:
        """The inverse of ``to_meta``; raises PenSpecError on anything else."""
        if not isinstance(d, Mapping):
            raise PenSpecError(f"pen encoding: expected an object, got {type(d).__name__}")
        if d.get("encoding") != ENCODING:
            raise PenSpecError(f"pen encoding {d.get('encoding')!r} is not known "
                               f"(this version reads {ENCODING!r})")
        extra = set(d) - {"encoding", "spacing", "jump_scale", "features", "canvas"}
        if extra:
            raise PenSpecError(f"pen encoding: unknown keys {sorted(extra)}")
        features = d.get("features", list(FEATURES))
        if not isinstance(features, (list, tuple)) or not all(isinstance(f, str) for f in features):
            raise PenSpecError("pen encoding: features must be a list of names")
        canvas = d.get("canvas", REF)
        if isinstance(canvas, bool) or not isinstance(canvas, int):
            raise PenSpecError(f"pen encoding: canvas must be a whole number, got {canvas!r}")
        return cls(spacing=d.get("spacing", cls.spacing),
                   jump_scale=d.get("jump_scale", cls.jump_scale),
                   features=tuple(features), canvas=canvas)


class PenStream:
    """The causal encoder: feed pen events, get the rows each one makes available.

    ``begin_stroke``, ``extend`` and ``end_stroke`` return (k, F) float32 (k may be 0);
    ``rows()`` is every row so far, (T, F). An ``extend`` or ``end_stroke`` without a
    stroke in progress returns no rows; ``begin_stroke`` during a stroke ends it first.
    """

    def __init__(self, spec: PenSpec | None = None) -> None:
        self.spec = spec or PenSpec()
        self._chunks: list[F32] = []
        self._n = 0
        self._cache: F32 | None = _EMPTY
        self._down = False
        self._last_raw: tuple[float, float] | None = None    # last raw point of the stroke
        self._last_step: tuple[float, float] | None = None   # last emitted pen step
        self._lifted_at: tuple[float, float] | None = None   # where the pen was last lifted
        self._travel = 0.0                                    # arc length since _last_step

    # -- events ---------------------------------------------------------------------
    def begin_stroke(self, x: float, y: float) -> F32:
        pre = self.end_stroke() if self._down else _EMPTY
        x, y = float(x), float(y)
        row = np.zeros((1, len(FEATURES)), np.float64)
        if self._lifted_at is not None:
            row[0, 2] = (x - self._lifted_at[0]) / self.spec.jump_scale
            row[0, 3] = (y - self._lifted_at[1]) / self.spec.jump_scale
        row[0, 4] = 1.0
        self._down = True
        self._last_raw = self._last_step = (x, y)
        self._travel = 0.0
        out = self._emit(row)
        return np.concatenate([pre, out]) if len(pre) else out

    def extend(self, x: float, y: float) -> F32:
        if not self._down or self._last_raw is None or self._last_step is None:
            return _EMPTY
        x, y = float(x), float(y)
        x0, y0 = self._last_raw
        seg = math.hypot(x - x0, y - y0)
        self._last_raw = (x, y)
        if seg == 0.0:
            return _EMPTY
        spacing = self.spec.spacing
        steps: list[tuple[float, float]] = []
        # points on the segment at arc length spacing - travel, then every spacing
        pos = spacing - self._travel
        while pos <= seg:
            t = pos / seg
            steps.append((x0 + t * (x - x0), y0 + t * (y - y0)))
            pos += spacing
        self._travel = seg - (pos - spacing)
        if not steps:
            return _EMPTY
        return self._emit(self._moves(steps))

    def end_stroke(self) -> F32:
        if not self._down or self._last_raw is None or self._last_step is None:
            return _EMPTY
        rows = []
        if self._travel >= 0.5 * self.spec.spacing:         # the last partial step
            rows.append(self._moves([self._last_raw]))
        lift = np.zeros((1, len(FEATURES)), np.float64)
        lift[0, 5] = 1.0
        rows.append(lift)
        self._lifted_at = self._last_raw
        self._down = False
        self._last_raw = self._last_step = None
        self._travel = 0.0
        return self._emit(np.concatenate(rows))

    # -- reading ----------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self._n

    @property
    def pen_down(self) -> bool:
        return self._down

    def rows(self) -> F32:
        """(T, F) float32: every row so far (a fresh array; rows never change once out)."""
        if self._cache is None:
            self._cache = np.concatenate(self._chunks) if self._chunks else _EMPTY
            self._chunks = [self._cache] if self._n else []
        return cast(F32, self._cache.copy())

    # -- internals --------------------------------------------------------------------
    def _moves(self, points: list[tuple[float, float]]) -> np.ndarray:
        assert self._last_step is not None
        pts = np.array([self._last_step, *points], np.float64)
        rows = np.zeros((len(points), len(FEATURES)), np.float64)
        rows[:, :2] = np.diff(pts, axis=0) / self.spec.spacing
        self._last_step = points[-1]
        return rows

    def _emit(self, rows: np.ndarray) -> F32:
        out = rows.astype(np.float32)
        self._chunks.append(out)
        self._n += len(out)
        self._cache = None
        return cast(F32, out.copy())


def pen_features(strokes: Sequence[Any], spec: PenSpec | None = None) -> F32:
    """strokes: (K, 2) (x, y) arrays in reference units, in writing order -> (T, F) float32.

    Equal, bit for bit, to feeding a ``PenStream`` the same strokes point by point.
    """
    stream = PenStream(spec)
    for stroke in strokes:
        pts = np.asarray(stroke, np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        stream.begin_stroke(pts[0, 0], pts[0, 1])
        for x, y in pts[1:]:
            stream.extend(x, y)
        stream.end_stroke()
    return stream.rows()


def to_reference(strokes: Sequence[Any], canvas: float) -> list[np.ndarray]:
    """A stroke file's strokes (canvas ``canvas`` pixels wide) -> float32 reference units."""
    k = REF / float(canvas)
    return [(np.asarray(s, np.float64).reshape(-1, 2) * k).astype(np.float32) for s in strokes]


def is_pen_model(arch_or_meta: Any) -> bool:
    """True for a pen model: its meta (or an ``arch`` dict's, or a Model's) says input "pen"."""
    meta = getattr(arch_or_meta, "meta", arch_or_meta)
    if isinstance(meta, Mapping) and "layers" in meta and isinstance(meta.get("meta"), Mapping):
        meta = meta["meta"]
    return isinstance(meta, Mapping) and meta.get("input") == "pen"
