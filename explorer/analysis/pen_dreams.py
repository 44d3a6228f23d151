"""Pen dreams: gradient ascent on the *pen path* of a few strokes instead of on free pixels.

A pixel dream (``dreams.DreamSettings``) is free to put any grey anywhere, and even with L2,
blur and jitter it settles on smudges. Here the image is drawn: ``strokes`` chains of
``dots`` points, each point a round Gaussian dab of ink (sigma ~ 1 px, MNIST's pen),
merged by a saturating union ``ink = 1 - exp(-sum_i g_i)``. The network's gradient
d(objective)/d(image) (from ``Model.backward``) is carried to the points by the chain rule
(``render_backward``, gradient-checked in the tests); springs keep neighbouring points
about ``spacing`` px apart and a bending term keeps each stroke smooth, so what comes out
is a handful of pen strokes. Deterministic per seed (the start strokes and the jitter).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from explorer.analysis.dreams import DreamTarget, Seed, Steps, check_steps, jittered_gradient
from explorer.analysis.edits import copy_model
from explorer.engine import Model

__all__ = ["PenSettings", "pen_dream_steps", "pen_start_image", "render_backward", "render_dots", "start_strokes", "stroke_penalty"]

_GRID = np.mgrid[0:28, 0:28].astype(np.float64)          # (2, 28, 28): row (y), column (x)


@dataclass(frozen=True)
class PenSettings:
    """steps; strokes x dots per stroke; sigma (dab radius, px); gain (ink of one dab before
    the union); lr (px per step for the strongest pull); spacing (rest length between dots);
    stiffness (springs + bending); jitter (random image shift before each gradient, px)."""

    steps: int = 4000  # a cap: a dream stops at its goal; the shipped CNN's class dreams (seed 0) took 15-1,069
    strokes: int = 3
    dots: int = 12
    sigma: float = 1.0
    gain: float = 1.5
    lr: float = 0.35
    spacing: float = 1.3
    stiffness: float = 1.0
    jitter: int = 1

    def start_image(self, seed: int, start: str | np.ndarray = "blank") -> np.ndarray:
        """The image a pen dream starts from: its seeded start strokes (``start`` is for pixel dreams)."""
        return pen_start_image(self, seed)

    def ascent(self, model: Model, target: DreamTarget, seed: Seed, start: str | np.ndarray, cap: int) -> Steps:
        """One attempt of at most ``cap`` steps (see ``pen_dream_steps``)."""
        return pen_dream_steps(model, target, replace(self, steps=cap), seed)


def render_dots(points: np.ndarray, sigma: float, gain: float) -> tuple[np.ndarray, np.ndarray]:
    """points: (N, 2) (x, y) in pixels -> (ink (28, 28) in [0, 1), dabs g (N, 28, 28))."""
    dx = _GRID[1][None] - points[:, 0, None, None]
    dy = _GRID[0][None] - points[:, 1, None, None]
    g = gain * np.exp(-(dx * dx + dy * dy) / (2.0 * sigma * sigma))
    return 1.0 - np.exp(-g.sum(axis=0)), g


def render_backward(d_ink: np.ndarray, points: np.ndarray, ink: np.ndarray, g: np.ndarray,
                    sigma: float) -> np.ndarray:
    """d objective / d ink (28, 28) -> d objective / d points (N, 2) (x, y)."""
    w = d_ink * (1.0 - ink)                                   # d ink / d sum(g) = exp(-sum g)
    dx = _GRID[1][None] - points[:, 0, None, None]
    dy = _GRID[0][None] - points[:, 1, None, None]
    s2 = sigma * sigma                                        # d g / d p = g (pixel - p) / s^2
    return np.stack([(w * g * dx).sum(axis=(1, 2)), (w * g * dy).sum(axis=(1, 2))], axis=1) / s2


def stroke_penalty(points: np.ndarray, strokes: int, spacing: float) -> tuple[float, np.ndarray]:
    """Springs (rest length ``spacing``) + bending, summed over strokes -> (energy, d energy / d points)."""
    p = points.reshape(strokes, -1, 2)
    grad = np.zeros_like(p)
    seg = p[:, 1:] - p[:, :-1]
    length = np.sqrt((seg ** 2).sum(-1, keepdims=True)) + 1e-9
    stretch = length - spacing
    energy = float((stretch ** 2).sum())
    f = 2.0 * stretch * seg / length
    grad[:, 1:] += f
    grad[:, :-1] -= f
    bend = p[:, 2:] - 2.0 * p[:, 1:-1] + p[:, :-2]
    energy += float((bend ** 2).sum())
    grad[:, 2:] += 2.0 * bend
    grad[:, 1:-1] -= 4.0 * bend
    grad[:, :-2] += 2.0 * bend
    return energy, grad.reshape(points.shape)


_STABLE = 0.045          # explicit steps on the penalty are stable below 2 / 40 (its largest curvature)


def _relax(pts: np.ndarray, settings: PenSettings, amount: float) -> np.ndarray:
    """Move the points ``amount`` down the penalty in stable sub-steps; keep them on the image."""
    n = max(1, int(np.ceil(amount / _STABLE)))
    for _ in range(n):
        pts = pts - (amount / n) * stroke_penalty(pts, settings.strokes, settings.spacing)[1]
    return cast("np.ndarray", np.clip(pts, 2.0, 25.0))


def start_strokes(settings: PenSettings, rng: np.random.Generator) -> np.ndarray:
    """Seeded short straight strokes near the centre -> (strokes * dots, 2) (x, y)."""
    out = []
    for _ in range(settings.strokes):
        centre = rng.uniform(10.0, 18.0, 2)
        angle = rng.uniform(0.0, np.pi)
        t = (np.arange(settings.dots) - (settings.dots - 1) / 2.0) * settings.spacing
        out.append(centre + t[:, None] * np.array([np.cos(angle), np.sin(angle)]))
    return np.concatenate(out)


def pen_start_image(settings: PenSettings, seed: int) -> np.ndarray:
    """The image a pen dream starts from (its seeded start strokes), (28, 28) float32."""
    pts = start_strokes(settings, np.random.default_rng(seed))
    return render_dots(pts, settings.sigma, settings.gain)[0].astype(np.float32)


def pen_dream_steps(model: Model, target: DreamTarget, settings: PenSettings = PenSettings(), seed: Seed = 0) -> Steps:
    """Yield (step, image (28, 28) float32, activation) after every step of the pen dream."""
    check_steps(settings.steps)
    rng = np.random.default_rng(seed)
    pts = start_strokes(settings, rng)
    twin = copy_model(model)
    for step in range(1, settings.steps + 1):
        ink, g = render_dots(pts, settings.sigma, settings.gain)
        value, d_ink = jittered_gradient(twin, ink, target, rng, settings.jitter)
        pull = render_backward(d_ink, pts, ink, g, settings.sigma)
        pull /= np.abs(pull).max() + 1e-12
        pts = _relax(pts + settings.lr * pull, settings, settings.lr * settings.stiffness)
        yield step, render_dots(pts, settings.sigma, settings.gain)[0].astype(np.float32), value
