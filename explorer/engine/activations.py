"""Element-wise activations: ``ReLU``, ``Tanh``, ``Sigmoid`` (x: (...) -> y: (...))."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .layer import Array, Layer


def sigmoid(x: Array) -> Array:
    """Logistic 1 / (1 + exp(-x)) computed as (tanh(x / 2) + 1) / 2: no overflow, same dtype."""
    y = np.tanh(x * 0.5)
    y += 1
    y *= 0.5
    return cast("Array", y)


class ReLU(Layer):
    """y = max(x, 0); dy/dx = 1 where y > 0."""

    type_name = "ReLU"

    def infer(self, x: Array) -> Array:
        return np.maximum(x, 0)

    def forward(self, x: Array) -> tuple[Array, Any]:
        y = np.maximum(x, 0)
        return y, y

    def backward(self, dy: Array, cache: Any) -> Array:
        return cast("Array", dy * (cache > 0))


class Tanh(Layer):
    """y = tanh(x); dy/dx = 1 - y^2."""

    type_name = "Tanh"

    def infer(self, x: Array) -> Array:
        return np.tanh(x)

    def forward(self, x: Array) -> tuple[Array, Any]:
        y = np.tanh(x)
        return y, y

    def backward(self, dy: Array, cache: Any) -> Array:
        return cast("Array", dy * (1 - cache * cache))


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    type_name = "Sigmoid"

    def infer(self, x: Array) -> Array:
        return sigmoid(x)

    def forward(self, x: Array) -> tuple[Array, Any]:
        y = sigmoid(x)
        return y, y

    def backward(self, dy: Array, cache: Any) -> Array:
        return cast("Array", dy * cache * (1 - cache))
