"""Seeded, batched data augmentation for 28x28 digits (numpy only).

One inverse-mapped bilinear resampling per image combines a random affine map (rotation,
scale, shear, translation) and a mild elastic distortion (Simard et al. 2003: a random
displacement field smoothed by a Gaussian); then, for some images, a grey-scale dilation
or erosion changes the stroke thickness a little.

``StrokeAugment`` covers the drawing canvas's path: the canvas gives pen centre-lines that
``preprocess_strokes`` re-renders with a uniform pen, unlike scanned MNIST ink. It traces
the training images' skeletons once (``strokes_from_image``) and re-renders them through
``preprocess_strokes`` with a random writer: affine map and wobble of the polylines, point
noise, over/undershoot at stroke ends, pen lifts, and a random pen width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from explorer.data.preprocess import EmptyDrawing, grow, preprocess_strokes
from explorer.data.strokes_from_image import strokes_from_images

__all__ = ["AugmentConfig", "augment_batch", "affine_matrices", "elastic_fields", "warp",
           "StrokeJitter", "jitter_strokes", "StrokeAugment"]


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random transforms (angles in degrees, lengths in pixels)."""

    rotation: float = 15.0
    scale: tuple[float, float] = (0.85, 1.15)
    shear: float = 0.3
    translate: float = 2.0
    elastic_alpha: float = 24.0      # displacement gain (Simard used 34; ~1 px std here)
    elastic_sigma: float = 4.0       # Gaussian smoothing of the displacement field
    p_elastic: float = 0.5           # share of images that get the elastic distortion
    p_thickness: float = 0.3         # share of images made a little thicker or thinner


def affine_matrices(n: int, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """-> (n, 2, 3) float32 maps from output (x, y) to input (x, y), about the image centre."""
    angle = np.radians(rng.uniform(-cfg.rotation, cfg.rotation, n))
    scale = rng.uniform(cfg.scale[0], cfg.scale[1], n)
    shear = rng.uniform(-cfg.shear, cfg.shear, n)
    shift = rng.uniform(-cfg.translate, cfg.translate, (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    # forward map A = R(angle) @ Shear @ S(scale); we need its inverse for sampling
    fwd = np.empty((n, 2, 2))
    fwd[:, 0, 0], fwd[:, 0, 1] = cos * scale, (cos * shear - sin) * scale
    fwd[:, 1, 0], fwd[:, 1, 1] = sin * scale, (sin * shear + cos) * scale
    inv = np.linalg.inv(fwd)
    out = np.empty((n, 2, 3))
    out[:, :, :2] = inv
    out[:, :, 2] = -np.einsum("nij,nj->ni", inv, shift)
    return out.astype(np.float32)


def _gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) row-normalised Gaussian smoothing matrix (edges renormalised)."""
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    g = np.exp(-0.5 * (d / sigma) ** 2)
    return cast("np.ndarray", (g / g.sum(axis=1, keepdims=True)).astype(np.float32))


def elastic_fields(n: int, size: int, rng: np.random.Generator, alpha: float,
                   sigma: float) -> np.ndarray:
    """-> (n, 2, size, size) float32 smooth displacements (dx, dy) in pixels."""
    g = _gaussian_matrix(size, sigma)
    field = rng.uniform(-1.0, 1.0, (n, 2, size, size)).astype(np.float32)
    rows = np.einsum("ij,nkjl->nkil", g, field)               # separable: G f G^T,
    smooth = np.einsum("nkil,ml->nkim", rows, g)              # two passes, not one O(s^4)
    return cast("np.ndarray", alpha * smooth)


def warp(x: np.ndarray, mats: np.ndarray, disp: np.ndarray | None = None) -> np.ndarray:
    """x: (N, H, W), mats: (N, 2, 3), disp: (N, 2, H, W) or None -> (N, H, W) float32.

    Bilinear sampling at mats @ (x - c, y - c, 1) + c (+ disp); outside the image is 0.
    """
    n, h, w = x.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = (xx - cx).ravel(), (yy - cy).ravel()
    sx = mats[:, 0, 0:1] * gx + mats[:, 0, 1:2] * gy + mats[:, 0, 2:3] + cx   # (N, H*W)
    sy = mats[:, 1, 0:1] * gx + mats[:, 1, 1:2] * gy + mats[:, 1, 2:3] + cy
    if disp is not None:
        sx = sx + disp[:, 0].reshape(n, -1)
        sy = sy + disp[:, 1].reshape(n, -1)
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = sx - x0, sy - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    pad = np.zeros((n, h + 2, w + 2), np.float32)              # 1-px zero border
    pad[:, 1:-1, 1:-1] = x
    flat = pad.reshape(n, -1)
    base = (np.arange(n) * (h + 2) * (w + 2))[:, None]
    xi, yi = np.clip(x0 + 1, 0, w), np.clip(y0 + 1, 0, h)      # clip -> border zeros
    off = (yi * (w + 2) + xi + base).ravel()
    f = flat.ravel()
    top = f[off] * (1 - fx.ravel()) + f[off + 1] * fx.ravel()
    bot = f[off + w + 2] * (1 - fx.ravel()) + f[off + w + 3] * fx.ravel()
    out = top * (1 - fy.ravel()) + bot * fy.ravel()
    outside = ((sx < -1) | (sx > w) | (sy < -1) | (sy > h)).ravel()
    out[outside] = 0.0
    return cast("np.ndarray", out.reshape(n, h, w).astype(np.float32))


def augment_batch(x: np.ndarray, rng: np.random.Generator,
                  cfg: AugmentConfig | None = None) -> np.ndarray:
    """x: (N, 1, 28, 28) float32 in [0, 1] -> (N, 1, 28, 28) float32 in [0, 1], transformed.

    Every image gets a random affine map; ``p_elastic`` of them an elastic distortion and
    ``p_thickness`` a 2x2 dilation or erosion (blended 40-100 %). Same rng state, same output.
    """
    cfg = cfg or AugmentConfig()
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected x of shape (N, 1, H, W), got {x.shape}")
    n, h, w = int(x.shape[0]), int(x.shape[2]), int(x.shape[3])
    mats = affine_matrices(n, rng, cfg)
    disp = elastic_fields(n, h, rng, cfg.elastic_alpha, cfg.elastic_sigma) if h == w else None
    if disp is not None:
        disp *= (rng.random(n) < cfg.p_elastic).astype(np.float32)[:, None, None, None]
    out = warp(x[:, 0].astype(np.float32), mats, disp)
    pick = rng.random(n) < cfg.p_thickness
    thicker = rng.random(n) < 0.5
    amount = rng.uniform(0.4, 1.0, n).astype(np.float32)[:, None, None]
    if pick.any():
        for mask, grow_up in ((pick & thicker, True), (pick & ~thicker, False)):
            if mask.any():
                changed = grow(out[mask], grow_up, 2)
                out[mask] += amount[mask] * (changed - out[mask])
    return cast("np.ndarray", np.clip(out, 0.0, 1.0)[:, None])


@dataclass(frozen=True)
class StrokeJitter:
    """Ranges of the random writer applied to pen strokes (lengths as fractions of the size)."""

    rotation: float = 12.0                 # degrees
    shear: float = 0.25
    aspect: tuple[float, float] = (0.85, 1.15)
    wobble: float = 0.015                  # smooth displacement along a stroke, std
    noise: float = 0.004                   # independent per-point noise, std
    end: tuple[float, float] = (-0.04, 0.05)   # trim (< 0) or overshoot (> 0) at stroke ends
    p_lift: float = 0.2                    # share of strokes split by a pen lift
    pen: tuple[float, float] = (1.8, 3.2)  # pen width in output (28x28) pixels


def _wobble(n: int, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """-> (n, 2) smooth random displacement: knots every ~5 points, linearly interpolated."""
    k = max(2, n // 5 + 1)
    knots = rng.normal(0.0, sigma, (k, 2))
    t = np.linspace(0.0, k - 1.0, n)
    return np.stack([np.interp(t, np.arange(k), knots[:, i]) for i in (0, 1)], axis=1)


def _ends(q: np.ndarray, rng: np.random.Generator, size: float, cfg: StrokeJitter) -> np.ndarray:
    """(K, 2) open stroke -> its ends trimmed by a point or extended along their direction."""
    for first in (True, False):
        a, b = (q[0], q[1]) if first else (q[-1], q[-2])
        d = a - b
        norm = float(np.hypot(*d))
        amount = rng.uniform(*cfg.end) * size
        if amount > 0 and norm > 1e-9:
            tip = (a + d / norm * amount)[None]
            q = np.vstack([tip, q]) if first else np.vstack([q, tip])
        elif amount < 0 and len(q) > 3:
            q = q[1:] if first else q[:-1]
    return q


def jitter_strokes(strokes: list[np.ndarray], rng: np.random.Generator,
                   cfg: StrokeJitter | None = None) -> list[np.ndarray]:
    """strokes: list of (K, 2) (x, y) -> new list of (K', 2) float64: the digit by another hand."""
    cfg = cfg or StrokeJitter()
    pts = np.concatenate(strokes)
    size = max(float(np.ptp(pts, axis=0).max()), 1e-6)
    centre = pts.mean(axis=0)
    ang = np.radians(rng.uniform(-cfg.rotation, cfg.rotation))
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    mat = rot @ np.array([[rng.uniform(*cfg.aspect), rng.uniform(-cfg.shear, cfg.shear)],
                          [0.0, 1.0]])
    out = []
    for p in strokes:
        q = (np.asarray(p, np.float64) - centre) @ mat.T + centre
        q = q + _wobble(len(q), rng, cfg.wobble * size) + rng.normal(0, cfg.noise * size, q.shape)
        closed = len(p) > 2 and bool(np.all(p[0] == p[-1]))
        if len(q) >= 2 and not closed:
            q = _ends(q, rng, size, cfg)
        if len(q) > 8 and rng.random() < cfg.p_lift:
            k = int(rng.integers(3, len(q) - 3))
            out += [q[:k], q[k + int(rng.random() < 0.5):]]
        else:
            out.append(q)
    return out


class StrokeAugment:
    """Re-render training images as pen strokes, the way the drawing canvas sees a digit.

    ``images``: (N, 1, H, W) or (N, H, W) ink-high float in [0, 1]; their skeleton strokes
    are traced once here (~3 ms an image). ``render(indices, rng)`` -> (n, 1, 28, 28)
    float32 and a (n,) bool mask of the images that had strokes (blank ones stay zero).
    """

    def __init__(self, images: np.ndarray, cfg: StrokeJitter | None = None,
                 chunk: int = 500) -> None:
        x = np.asarray(images)
        x = x[:, 0] if x.ndim == 4 else x
        self.cfg = cfg or StrokeJitter()
        self.strokes: list[list[np.ndarray]] = []
        for lo in range(0, len(x), chunk):
            self.strokes += strokes_from_images(x[lo:lo + chunk])

    def __len__(self) -> int:
        return len(self.strokes)

    def render(self, indices: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """indices: (n,) int -> (n, 1, 28, 28) float32 jittered re-renderings, (n,) bool ok."""
        out = np.zeros((len(indices), 1, 28, 28), np.float32)
        ok = np.zeros(len(indices), bool)
        for j, i in enumerate(np.asarray(indices, np.int64)):
            lines = self.strokes[i]
            if not lines:
                continue
            pen = rng.uniform(*self.cfg.pen)
            try:
                out[j] = preprocess_strokes(jitter_strokes(lines, rng, self.cfg), pen_width=pen)
                ok[j] = True
            except EmptyDrawing:
                pass
        return out, ok
