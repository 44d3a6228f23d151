"""Principal components of hidden states, fitted once per model and then frozen.

The Sequence Lab projects the live hidden state onto a basis fitted on the model's own
corpus (or on generated task sequences), so the picture does not jump as you type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class PCABasis:
    """mean: (H,), components: (k, H) rows orthonormal, explained: (k,) variance ratios,
    cloud: (M, k) projections of (a subsample of) the fitting states."""

    mean: F32
    components: F32
    explained: F32
    cloud: F32

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def transform(self, h: npt.ArrayLike) -> F32:
        """h: (N, H) -> (N, k) float32 coordinates."""
        h = np.asarray(h, np.float32)
        return cast("F32", ((h - self.mean) @ self.components.T).astype(np.float32, copy=False))


def fit_pca(states: npt.ArrayLike, k: int = 6, max_cloud: int = 3000,
            rng: np.random.Generator | None = None) -> PCABasis:
    """states: (N, H) -> PCABasis with min(k, H) components (eigenvectors of the covariance).

    Signs are fixed so that each component's largest-magnitude loading is positive, which
    makes the basis deterministic for the same states.
    """
    x = np.asarray(states, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"PCA needs states of shape (N >= 2, H), got {x.shape}")
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / (x.shape[0] - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][: min(k, x.shape[1])]
    comps = vecs[:, order].T
    flip = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps *= np.where(flip == 0, 1.0, flip)[:, None]
    total = float(vals.sum())
    explained = vals[order] / total if total > 0 else np.zeros(len(order))
    rng = rng if rng is not None else np.random.default_rng(0)
    pick = x if x.shape[0] <= max_cloud else x[np.sort(rng.choice(x.shape[0], max_cloud, replace=False))]
    cloud = (pick - mean) @ comps.T
    return PCABasis(mean.astype(np.float32), comps.astype(np.float32),
                    explained.astype(np.float32), cloud.astype(np.float32))


_CACHE: dict[str, PCABasis] = {}


def cached_basis(key: str, fit: Callable[[], PCABasis]) -> PCABasis:
    """The basis stored under `key`, fitted by `fit()` the first time only (frozen afterwards)."""
    basis = _CACHE.get(key)
    if basis is None:
        basis = _CACHE[key] = fit()
    return basis


def clear_cache() -> None:
    """Forget every cached basis (tests; a model file replaced on disk)."""
    _CACHE.clear()
