"""How strongly each earlier input influences one prediction, through our own BPTT.

influence[s] = || d logit[target] at step t / d x_s ||^2 for the inputs x_s (the
embedding vectors fed to the recurrent layer) of steps s <= t, computed with the
layers' own ``forward(x, state)`` / ``backward`` — the same code that trains them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from explorer.engine.layer import Layer


def influence(recurrent: Layer, head: Sequence[Layer], x: npt.ArrayLike, state: Any,
              target: int) -> npt.NDArray[np.float64]:
    """x: (1, n, E) inputs of the last n steps, state: the state before them -> (n,) float64.

    Entry s is the squared gradient norm of the head's output[target] at the LAST step
    w.r.t. x[0, s]. Parameter gradients are left exactly as they were.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"influence expects inputs of shape (1, n, E), got {x.shape}")
    n = x.shape[1]
    if n == 0:
        return np.zeros(0)
    layers = [recurrent, *head]
    saved = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    try:
        y, rec_cache = recurrent.forward(x, state)
        caches = []
        out = y[:, -1:]                                     # only the last step's output matters
        for layer in head:
            out, cache = layer.forward(out)
            caches.append(cache)
        if not 0 <= target < out.shape[-1]:
            raise ValueError(f"target {target} outside the {out.shape[-1]} outputs")
        d = np.zeros_like(out)
        d[0, -1, target] = 1.0
        for layer, cache in zip(reversed(head), reversed(caches)):
            d = layer.backward(d, cache)
        dy = np.zeros_like(y)
        dy[:, -1:] = d
        dx = recurrent.backward(dy, rec_cache)
    finally:
        for layer, grads in zip(layers, saved):
            layer.grads.update(grads)
    return (np.asarray(dx, np.float64)[0] ** 2).sum(axis=-1)
