"""Input transforms and sweeps, Qt-free: bend the 28x28 input, watch the answer change.

``transform_input(x, name, value)``: shift / rotate / scale / thickness applied to the
28x28 network input with our own bilinear resampling (numpy only); ``sweep`` runs the
model over a range of values -> ``Sweep(values, probs, labels)``; ``accuracy_under`` the
same over many digits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

from explorer.analysis.edits import ExperimentError, predict_probs, reads_rows
from explorer.engine import Model

__all__ = ["TRANSFORMS", "Sweep", "accuracy_under", "grey_morph", "identity_value", "sweep", "sweep_values", "transform_input", "unit_of"]


# -- invariance transforms on the 28x28 input -----------------------------------------
TRANSFORMS = ("shift-x", "shift-y", "rotate", "scale", "thickness")
_IDENTITY = {"shift-x": 0.0, "shift-y": 0.0, "rotate": 0.0, "scale": 1.0, "thickness": 0.0}
_UNITS = {"shift-x": "px", "shift-y": "px", "rotate": "degrees", "scale": "x", "thickness": "px (dilate + / erode -)"}


def sweep_values(name: str) -> np.ndarray:
    """The values a sweep visits (identity included): shifts +-8 px, rotation +-60 deg,
    scale 0.5-1.5x, thickness -3..+3 grey erosions / dilations."""
    if name in ("shift-x", "shift-y"):
        return np.arange(-8, 9, dtype=np.float64)
    if name == "rotate":
        return np.arange(-60, 61, 5, dtype=np.float64)
    if name == "scale":
        return np.round(np.linspace(0.5, 1.5, 21), 6)
    if name == "thickness":
        return np.arange(-3, 4, dtype=np.float64)
    raise ExperimentError(f"unknown transform {name!r} (choose one of {', '.join(TRANSFORMS)})")


def identity_value(name: str) -> float:
    sweep_values(name)                      # validates the name
    return _IDENTITY[name]


def unit_of(name: str) -> str:
    return _UNITS[name]


def _bilinear(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample ``img`` (H, W) at float coordinates (zero outside) -> array shaped like ys."""
    h, w = img.shape
    padded = np.zeros((h + 2, w + 2), np.float64)
    padded[1:-1, 1:-1] = img
    ys = np.clip(ys + 1.0, 0.0, h + 1.0)
    xs = np.clip(xs + 1.0, 0.0, w + 1.0)
    y0 = np.minimum(np.floor(ys).astype(np.int64), h)
    x0 = np.minimum(np.floor(xs).astype(np.int64), w)
    fy, fx = ys - y0, xs - x0
    top = padded[y0, x0] * (1 - fx) + padded[y0, x0 + 1] * fx
    bottom = padded[y0 + 1, x0] * (1 - fx) + padded[y0 + 1, x0 + 1] * fx
    return cast("np.ndarray", top * (1 - fy) + bottom * fy)


def _affine(img: np.ndarray, angle_deg: float = 0.0, scale: float = 1.0,
            dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """Rotate (clockwise on screen for +angle) and scale about the image centre, then shift."""
    h, w = img.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    if angle_deg == 0.0:
        c, s = 1.0, 0.0                       # exact: the identity samples every pixel exactly
    u, v = xx - cx - dx, yy - cy - dy          # output -> source: undo shift, rotation, scale
    src_x = (c * u + s * v) / scale + cx
    src_y = (-s * u + c * v) / scale + cy
    return _bilinear(img, src_y, src_x)


def grey_morph(img: np.ndarray, steps: int) -> np.ndarray:
    """steps > 0: grey dilation (max over a plus-shaped 3x3), < 0: erosion (min), |steps| times."""
    out = img.astype(np.float64)
    op = np.maximum if steps > 0 else np.minimum
    for _ in range(abs(steps)):
        p = np.pad(out, 1, constant_values=0.0)
        h, w = out.shape
        out = op.reduce([p[1:h + 1, 1:w + 1], p[0:h, 1:w + 1], p[2:h + 2, 1:w + 1],
                         p[1:h + 1, 0:w], p[1:h + 1, 2:w + 2]])
    return out


def transform_input(x: np.ndarray, name: str, value: float) -> np.ndarray:
    """x: (28, 28) or (1, 1, 28, 28) network input -> the same shape, transformed, float32.

    shift-x / shift-y: pixels (+ = right / down); rotate: degrees (+ = clockwise);
    scale: factor about the centre; thickness: integer grey dilations (+) / erosions (-).
    """
    identity_value(name)
    value = float(value)
    if not np.isfinite(value):
        raise ExperimentError(f"the {name} value must be a finite number, got {value}")
    arr = np.asarray(x, np.float64)
    img = arr.reshape(arr.shape[-2:])
    if name == "shift-x":
        out = _affine(img, dx=value)
    elif name == "shift-y":
        out = _affine(img, dy=value)
    elif name == "rotate":
        out = _affine(img, angle_deg=value)
    elif name == "scale":
        if value <= 0:
            raise ExperimentError(f"the scale must be positive, got {value}")
        out = _affine(img, scale=value)
    else:
        if value != round(value):
            raise ExperimentError(f"thickness takes whole steps, got {value}")
        out = grey_morph(img, int(round(value)))
    return cast("np.ndarray", np.clip(out, 0.0, 1.0).astype(np.float32).reshape(arr.shape))


@dataclass(frozen=True)
class Sweep:
    """transform; values: (V,); probs: (V, 10) float64; labels: (V,) int; images: (V, 28, 28)."""

    transform: str
    values: np.ndarray
    probs: np.ndarray
    labels: np.ndarray
    images: np.ndarray

    def flips(self) -> list[float]:
        """Values where the label differs from the label at the identity (nearest first)."""
        ident = identity_value(self.transform)
        base = self.labels[int(np.argmin(np.abs(self.values - ident)))]
        changed = [float(v) for v, lab in zip(self.values, self.labels) if lab != base]
        return sorted(changed, key=lambda v: abs(v - ident))


def sweep(model: Model, x: np.ndarray, name: str, values: np.ndarray | None = None,
          probs: Callable[[np.ndarray], np.ndarray] | None = None) -> Sweep:
    """x: (28, 28) network input -> class probabilities of ``model`` at each transform value.

    Each image runs alone (batch 1), exactly as a plain forward would run it, so the row
    at the identity equals the ``classify`` probabilities; ``probs`` ((28, 28) -> (1, 10))
    replaces ``predict_probs`` (the lab passes its own live sums).
    """
    vals = sweep_values(name) if values is None else np.asarray(values, np.float64)
    img = np.asarray(x, np.float32).reshape(28, 28)
    images = np.stack([transform_input(img, name, v) for v in vals])
    fn = probs if probs is not None else (lambda im: predict_probs(model, im))
    out = np.concatenate([np.asarray(fn(im), np.float64).reshape(1, 10) for im in images])
    return Sweep(name, vals, out, out.argmax(axis=1), images)

def accuracy_under(model: Model, images: np.ndarray, labels: np.ndarray, name: str,
                   values: np.ndarray | None = None, cancel: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """images: (N, 28, 28), labels: (N,) -> (values (V,), accuracy (V,)) of ``model`` on the
    transformed images: the tolerance of a network over many digits, not one drawing."""
    vals = sweep_values(name) if values is None else np.asarray(values, np.float64)
    acc = np.full(len(vals), np.nan)
    for i, v in enumerate(vals):
        if cancel is not None and cancel():
            break
        xt = np.stack([transform_input(x, name, v) for x in images])
        logits = model.predict(xt[:, None] if not reads_rows(model) else xt)
        acc[i] = float((logits.argmax(-1) == labels).mean())
    return vals, acc
