"""Losses: softmax / log_softmax, masked cross-entropy and mean squared error.

Each loss returns ``(loss: float, grad)`` where ``grad`` is d loss / d input, ready to
pass to ``Model.backward``.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from .layer import Array


def log_softmax(z: Array, axis: int = -1) -> Array:
    """z: (..., K) -> log softmax along ``axis`` (stable: shifted by the max)."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return cast("Array", shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))


def softmax(z: Array, axis: int = -1) -> Array:
    """z: (..., K) -> probabilities along ``axis`` summing to 1."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return cast("Array", e / e.sum(axis=axis, keepdims=True))


def cross_entropy(logits: Array, targets: Array, mask: Array | None = None
                  ) -> tuple[float, Array]:
    """logits: (..., K) float, targets: (...) int, mask: (...) bool or None
    -> (mean negative log-likelihood over unmasked positions, dlogits (..., K)).

    Masked-out positions (mask False) contribute neither loss nor gradient.
    """
    targets = np.asarray(targets)
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"cross_entropy expects targets of shape {logits.shape[:-1]}, "
                         f"got shape {targets.shape}")
    if targets.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy expects integer class targets, got dtype {targets.dtype}")
    k = logits.shape[-1]
    keep = np.ones(targets.shape, bool) if mask is None else np.asarray(mask, bool)
    if keep.shape != targets.shape:
        raise ValueError(f"cross_entropy expects a mask of shape {targets.shape}, "
                         f"got shape {keep.shape}")
    safe = np.where(keep, targets, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= k):
        raise ValueError(f"cross_entropy targets must lie in [0, {k - 1}]")
    logp = log_softmax(logits)
    picked = np.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    count = max(int(keep.sum()), 1)
    loss = float(-(picked * keep).sum() / count)
    grad = np.exp(logp)
    np.put_along_axis(grad, safe[..., None],
                      np.take_along_axis(grad, safe[..., None], axis=-1) - 1, axis=-1)
    grad *= (keep / count).astype(grad.dtype)[..., None]
    return loss, grad


def mse(pred: Array, target: Array) -> tuple[float, Array]:
    """pred, target: same shape -> (mean of (pred - target)^2, dpred)."""
    target = np.asarray(target, dtype=pred.dtype)
    if pred.shape != target.shape:
        raise ValueError(f"mse expects target of shape {pred.shape}, got shape {target.shape}")
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 / max(diff.size, 1)) * diff
