"""Seeded, batched data augmentation for 28x28 digits (numpy only).

One inverse-mapped bilinear resampling per image combines a random affine map (rotation,
scale, shear, translation) and a mild elastic distortion (Simard et al. 2003: a random
displacement field smoothed by a Gaussian); then, for some images, a grey-scale dilation
or erosion changes the stroke thickness a little.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.data.preprocess import grow

__all__ = ["AugmentConfig", "augment_batch", "affine_matrices", "elastic_fields", "warp"]


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
    return (g / g.sum(axis=1, keepdims=True)).astype(np.float32)


def elastic_fields(n: int, size: int, rng: np.random.Generator, alpha: float,
                   sigma: float) -> np.ndarray:
    """-> (n, 2, size, size) float32 smooth displacements (dx, dy) in pixels."""
    g = _gaussian_matrix(size, sigma)
    field = rng.uniform(-1.0, 1.0, (n, 2, size, size)).astype(np.float32)
    rows = np.einsum("ij,nkjl->nkil", g, field)               # separable: G f G^T,
    smooth = np.einsum("nkil,ml->nkim", rows, g)              # two passes, not one O(s^4)
    return alpha * smooth


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
    return out.reshape(n, h, w).astype(np.float32)


def augment_batch(x: np.ndarray, rng: np.random.Generator,
                  cfg: AugmentConfig | None = None) -> np.ndarray:
    """x: (N, 1, 28, 28) float32 in [0, 1] -> (N, 1, 28, 28) float32 in [0, 1], transformed.

    Every image gets a random affine map; ``p_elastic`` of them an elastic distortion and
    ``p_thickness`` a 2x2 dilation or erosion (blended 40-100 %). Same rng state, same output.
    """
    cfg = cfg or AugmentConfig()
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected x of shape (N, 1, H, W), got {x.shape}")
    n, _, h, w = x.shape
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
    return np.clip(out, 0.0, 1.0)[:, None]
