"""Stroke files: the app's own drawing format, read defensively.

``{"canvas": W, "strokes": [[[x, y], ...], ...]}``: canvas pixels (a W x W canvas), y
pointing down, strokes in writing order, points in pen order (other keys, such as the
``label`` the Digit Lab keeps with an example, are ignored). ``read_stroke_file`` checks
everything before anything is computed and raises ``StrokeFileError`` with one line that
says what is wrong: not JSON, not this shape, numbers that are not finite, no points,
or too big (``MAX_BYTES``, ``MAX_STROKES``, ``MAX_POINTS``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.data.pen import to_reference
from explorer.errors import ExplorerError

__all__ = ["MAX_BYTES", "MAX_POINTS", "MAX_STROKES", "StrokeFile", "StrokeFileError",
           "looks_like_stroke_file", "parse_strokes", "read_stroke_file"]

MAX_BYTES = 8_000_000
MAX_STROKES = 1_000
MAX_POINTS = 200_000
MAX_CANVAS = 100_000.0


class StrokeFileError(ExplorerError, ValueError):
    """A stroke file that cannot be read as a drawing."""


@dataclass(frozen=True)
class StrokeFile:
    canvas: float
    strokes: list[np.ndarray]          # (K, 2) float64 canvas pixels each, K >= 1

    def reference(self, reverse: bool = False) -> list[np.ndarray]:
        """The strokes in reference canvas units (280 / canvas), float32; ``reverse``: the
        strokes in reverse order, each stroke's points reversed too."""
        strokes = [s[::-1] for s in self.strokes[::-1]] if reverse else self.strokes
        return to_reference(strokes, self.canvas)


def looks_like_stroke_file(path: str | os.PathLike[str]) -> bool:
    """A ``.json`` file, or any file whose first non-blank byte is ``{``."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_strokes(data: Any) -> StrokeFile:
    """A decoded JSON value -> StrokeFile; StrokeFileError (one line) if it is not one."""
    if not isinstance(data, dict):
        raise StrokeFileError(f"expected a JSON object with \"canvas\" and \"strokes\", "
                              f"got {type(data).__name__}")
    if "canvas" not in data or "strokes" not in data:
        missing = [k for k in ("canvas", "strokes") if k not in data]
        raise StrokeFileError(f"missing {' and '.join(repr(k) for k in missing)}")
    canvas = data["canvas"]
    if not _number(canvas) or not 1 <= canvas <= MAX_CANVAS:      # NaN and inf fail too
        raise StrokeFileError(f"\"canvas\" must be the canvas side in pixels (1 to "
                              f"{MAX_CANVAS:,.0f}), got {canvas!r}"[:200])
    strokes = data["strokes"]
    if not isinstance(strokes, list):
        raise StrokeFileError(f"\"strokes\" must be a list of strokes, got {type(strokes).__name__}")
    if len(strokes) > MAX_STROKES:
        raise StrokeFileError(f"too many strokes ({len(strokes):,}; at most {MAX_STROKES:,})")
    out, total = [], 0
    for k, stroke in enumerate(strokes):
        if not isinstance(stroke, list):
            raise StrokeFileError(f"stroke {k + 1} must be a list of [x, y] points, "
                                  f"got {type(stroke).__name__}")
        total += len(stroke)
        if total > MAX_POINTS:
            raise StrokeFileError(f"too many points (more than {MAX_POINTS:,})")
        for j, p in enumerate(stroke):
            if not (isinstance(p, list) and len(p) == 2 and _number(p[0]) and _number(p[1])):
                raise StrokeFileError(f"stroke {k + 1}, point {j + 1}: expected [x, y] numbers, "
                                      f"got {json.dumps(p)[:40]}")
        if not stroke:
            continue                                   # an empty stroke draws nothing
        try:
            arr = np.array(stroke, np.float64)
        except OverflowError:
            arr = np.array([[math.inf, math.inf]])
        if not np.isfinite(arr).all() or np.abs(arr).max() > 100.0 * float(canvas):
            raise StrokeFileError(f"stroke {k + 1} has a coordinate that is not a finite number "
                                  "on or near the canvas")
        out.append(arr)
    if not out:
        raise StrokeFileError("no strokes (the drawing is empty)")
    return StrokeFile(float(canvas), out)


def _reject_constant(name: str) -> Any:
    raise StrokeFileError(f"{name} is not a number a drawing can hold")


def read_stroke_file(path: str | os.PathLike[str]) -> StrokeFile:
    """Read and check one stroke file; StrokeFileError or OSError (one line each)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise StrokeFileError(f"too big for a stroke file ({size:,} bytes; at most {MAX_BYTES:,})")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise StrokeFileError("not a stroke file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise StrokeFileError(f"not valid JSON ({exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno})") from None
    except RecursionError:
        raise StrokeFileError("not a stroke file (nested too deeply)") from None
    return parse_strokes(data)
