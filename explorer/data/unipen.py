"""Real pen digits for training the pen readers (UNIPEN train_r01_v07, category 1a).

The file (``unipen_digits_train.npz``, CC BY 4.0, doi:10.5281/zenodo.1195803; I. Guyon,
L. Schomaker, R. Plamondon, M. Liberman, S. Janet, "UNIPEN project of on-line data
exchange and recognizer benchmarks", ICPR 1994) is read only by the training commands,
from a path given on their command line; nothing reads it while the app runs.

- ``load_unipen(path)`` -> ``PenDigits``: each digit's strokes in writing order, in the
  source's own device units (y down), with its label, source and writer;
- ``writer_split`` holds out whole *writers* (about 20 % of the writers of every source,
  seeded), never single digits, so the held-out figures are about people the model has
  not seen;
- ``place_on_canvas`` puts a digit on the 280 x 280 reference canvas the way a person
  would draw it there: its own bounding box is used only to choose a random size and
  position (aspect kept); the pen encoding that follows (``explorer.data.pen``) never sees
  that box;
- ``augment_digit`` is the random writer used in training (affine, wobble, sampling
  rate, pen lifts; ``explorer.data.augment.jitter_strokes``).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.data.augment import StrokeJitter, jitter_strokes
from explorer.errors import ExplorerError

__all__ = ["CANVAS", "DEFAULT_PATH", "PEN_JITTER", "PenDigits", "UnipenError", "augment_digit",
           "load_unipen", "place_on_canvas", "writer_split"]

Lines = list[np.ndarray]
CANVAS = 280.0
DEFAULT_PATH = "/work/shared/data/unipen/unipen_digits_train.npz"   # a training argument only
HELD_OUT_FRACTION = 0.2
SIZE = (90.0, 240.0)        # the longer side of a digit as drawn on the 280 canvas
# the random writer of training (lengths as fractions of the digit's size); no pen widths:
# the pen readers do not see the width
PEN_JITTER = StrokeJitter(rotation=12.0, shear=0.3, aspect=(0.8, 1.2), wobble=0.012,
                          noise=0.002, end=(-0.03, 0.04), p_lift=0.06, pen=(2.4, 2.4))


class UnipenError(ExplorerError, ValueError):
    """The pen digit file is missing, damaged or not in the expected format."""


@dataclass(frozen=True)
class PenDigits:
    """Digits as strokes: ``strokes[i]`` is a list of (K, 2) float32 arrays in writing order."""

    strokes: list[Lines]
    labels: np.ndarray          # (N,) int64
    sources: np.ndarray         # (N,) str
    writers: np.ndarray         # (N,) str: "source/writer", unique across sources

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> PenDigits:
        idx = np.asarray(idx, np.int64)
        return PenDigits([self.strokes[i] for i in idx], self.labels[idx], self.sources[idx],
                         self.writers[idx])


def load_unipen(path: str | os.PathLike[str] = DEFAULT_PATH) -> PenDigits:
    """Read the npz (``allow_pickle=False``) -> PenDigits; UnipenError on a bad file."""
    path = Path(path)
    if not path.is_file():
        raise UnipenError(f"{path}: no such pen digit file")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            points = np.asarray(z["points"], np.float32)
            offsets = np.asarray(z["stroke_offsets"], np.int64)
            samples = np.asarray(z["sample_strokes"], np.int64)
            labels = np.asarray(z["labels"], np.int64)
            sources = np.asarray(z["sources"]).astype(str)
            writers = np.asarray(z["writers"]).astype(str)
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnipenError(f"{path}: not a pen digit file ({exc})") from None
    n = len(labels)
    if (points.ndim != 2 or points.shape[1] != 2 or len(samples) != n + 1
            or len(sources) != n or len(writers) != n or offsets[-1] != len(points)
            or samples[-1] != len(offsets) - 1 or np.any(np.diff(offsets) < 0)
            or np.any(np.diff(samples) < 1) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9
            or not np.isfinite(points).all()):
        raise UnipenError(f"{path}: inconsistent pen digit arrays")
    strokes = [[points[offsets[k]:offsets[k + 1]] for k in range(samples[i], samples[i + 1])]
               for i in range(n)]
    who = np.char.add(np.char.add(sources, "/"), writers)
    return PenDigits(strokes, labels, sources, who)


def writer_split(data: PenDigits, fraction: float = HELD_OUT_FRACTION, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """-> (train indices, held-out indices): ``fraction`` of every source's writers (at
    least one, never all) are held out whole, chosen with ``seed``."""
    rng = np.random.default_rng([seed, 21])
    held: list[str] = []
    for source in sorted(set(data.sources.tolist())):
        names = sorted(set(data.writers[data.sources == source].tolist()))
        k = min(max(1, int(round(fraction * len(names)))), len(names) - 1)
        if k > 0:
            held += [names[i] for i in rng.choice(len(names), k, replace=False)]
    out = np.isin(data.writers, held)
    return np.flatnonzero(~out), np.flatnonzero(out)


def place_on_canvas(strokes: Lines, rng: np.random.Generator,
                    size: tuple[float, float] = SIZE) -> Lines:
    """A digit in device units -> float64 strokes on the 280 canvas: the longer side of its
    box a random length in ``size``, aspect kept, at a random position inside the canvas."""
    pts = np.concatenate(strokes).astype(np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = max(float((hi - lo).max()), 1e-6)
    k = rng.uniform(*size) / extent
    room = np.maximum(CANVAS - (hi - lo) * k, 0.0)
    offset = rng.uniform(0.0, 1.0, 2) * room
    return [(np.asarray(s, np.float64) - lo) * k + offset for s in strokes]


def _resample_rate(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another tablet's sampling: keep a random subset of the points (ends kept)."""
    if len(stroke) < 4:
        return stroke
    keep = rng.random(len(stroke)) < rng.uniform(0.35, 1.0)
    keep[0] = keep[-1] = True
    return stroke[keep]


def augment_digit(strokes: Lines, rng: np.random.Generator,
                  jitter: StrokeJitter = PEN_JITTER) -> Lines:
    """One training variant of a placed digit: another hand (``jitter_strokes``), another
    sampling rate, kept inside the canvas."""
    lines = jitter_strokes([np.asarray(s, np.float64) for s in strokes], rng, jitter)
    lines = [_resample_rate(s, rng) for s in lines if len(s)]
    pts = np.concatenate(lines)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    shift = np.clip(-lo, 0, None) - np.clip(hi - CANVAS, 0, None)
    return [s + shift for s in lines]
