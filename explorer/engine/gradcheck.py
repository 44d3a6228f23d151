"""Finite-difference gradient checks (float64, central differences, eps=1e-6).

The scalar checked is L = sum(layer(x) * dy). ``rel_error`` is
|a - n| / max(|a| + |n|, 1e-12). Pass ``analytic`` to check gradients computed (or
corrupted) elsewhere: that is how the tests run the negative control.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .layer import Array, Layer

EPS = 1e-6


def rel_error(a: float, n: float) -> float:
    return abs(a - n) / max(abs(a) + abs(n), 1e-12)


def analytic_grads(layer: Layer, x: Array, dy: Array) -> dict[str, Array]:
    """One forward + backward: {"input": dL/dx, **param grads} (copies)."""
    layer.zero_grad()
    _, cache = layer.forward(x)
    dx = layer.backward(dy, cache)
    out = {"input": np.array(dx, copy=True)}
    out.update({k: g.copy() for k, g in layer.grads.items()})
    return out


def _sample(shape: tuple[int, ...], n_checks: int, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= n_checks else rng.choice(size, n_checks, replace=False)
    return [np.unravel_index(int(i), shape) for i in flat]


def numeric_grad(f: Callable[[], float], arr: Array, idx: tuple[Any, ...], eps: float = EPS) -> float:
    """Central difference of f() w.r.t. arr[idx] (arr is perturbed and restored in place)."""
    old = arr[idx]
    arr[idx] = old + eps
    up = f()
    arr[idx] = old - eps
    down = f()
    arr[idx] = old
    return (up - down) / (2 * eps)


def layer_errors(layer: Layer, x: Array, dy: Array, *, analytic: dict[str, Array] | None = None,
                 n_checks: int = 20, seed: int = 0, eps: float = EPS,
                 check_input: bool = True) -> dict[str, float]:
    """Worst relative error per gradient ("input" and each parameter name)."""
    rng = np.random.default_rng(seed)
    grads = analytic if analytic is not None else analytic_grads(layer, x, dy)

    def loss() -> float:
        return float(np.sum(layer.forward(x)[0] * dy))

    targets: dict[str, Array] = dict(layer.params)
    if check_input:
        targets = {"input": x, **targets}
    errors = {}
    for name, arr in targets.items():
        worst = 0.0
        for idx in _sample(arr.shape, n_checks, rng):
            worst = max(worst, rel_error(float(grads[name][idx]), numeric_grad(loss, arr, idx, eps)))
        errors[name] = worst
    return errors


def max_rel_error(layer: Layer, x: Array, dy: Array, **kwargs: Any) -> float:
    """Worst relative error over the input and every parameter gradient."""
    return max(layer_errors(layer, x, dy, **kwargs).values())


def model_errors(model: Any, x: Array, loss_fn: Callable[[Array], tuple[float, Array]],
                 n_checks: int = 10, seed: int = 0, eps: float = EPS) -> dict[str, float]:
    """Model-level check of loss_fn(model(x)): worst error per parameter key and "input"."""
    rng = np.random.default_rng(seed)
    model.zero_grad()
    _, dout = loss_fn(model.forward(x))
    dx = model.backward(dout)
    grads = {"input": dx, **{k: g.copy() for k, g in model.gradients().items()}}

    def loss() -> float:
        return float(loss_fn(model.forward(x))[0])

    errors = {}
    for name, arr in {"input": x, **model.parameters()}.items():
        worst = 0.0
        for idx in _sample(arr.shape, n_checks, rng):
            worst = max(worst, rel_error(float(grads[name][idx]), numeric_grad(loss, arr, idx, eps)))
        errors[name] = worst
    return errors
