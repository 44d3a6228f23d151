"""An order of hidden units for the heat map: units that move together sit together.

``similarity_order(states)`` is fitted once per model on its own corpus (a fixed order, so
patterns show as bands and do not shuffle while you type); ``signal_order(h, s)`` sorts the
units by their correlation with a signal (most positive first, most negative last).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from explorer.analysis.units import correlations

Order = npt.NDArray[np.intp]


def similarity_order(states: npt.ArrayLike) -> Order:
    """states (N, H) -> (H,) a permutation: a chain that always steps to the unused unit most
    correlated with the last one, starting from the unit that loads most on the first PC."""
    h = np.asarray(states, np.float64)
    n_units = h.shape[1]
    if n_units < 3 or h.shape[0] < 3:
        return np.arange(n_units)
    hc = h - h.mean(axis=0)
    sd = np.sqrt((hc ** 2).sum(axis=0))
    flat = sd < 1e-12
    z = hc / np.where(flat, 1.0, sd)
    corr = z.T @ z
    corr[flat] = corr[:, flat] = 0.0
    _, vecs = np.linalg.eigh(corr)
    first = vecs[:, -1]
    current = int(np.argmax(first * np.sign(first.sum() or 1.0)))
    used = np.zeros(n_units, bool)
    order = [current]
    used[current] = True
    for _ in range(n_units - 1):
        scores = np.where(used, -np.inf, corr[current])
        current = int(np.argmax(scores))
        used[current] = True
        order.append(current)
    return np.asarray(order, np.intp)


def signal_order(h: npt.ArrayLike, s: npt.ArrayLike) -> Order:
    """h (T, H), s (T,) -> units by Pearson r with s, most positive first (SignalError if it cannot)."""
    r = correlations(h, s)
    return np.argsort(-r, kind="stable").astype(np.intp)
