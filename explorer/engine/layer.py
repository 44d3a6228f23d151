"""The one interface every layer implements.

Every layer holds ``params`` and ``grads`` — dicts with identical keys, named as PyTorch
names the parameters (``weight``, ``bias``, ``weight_ih_l0`` ...) with PyTorch's shapes.

``forward(x) -> (y, cache)`` returns the output and an explicit cache;
``backward(dy, cache) -> dx`` returns the input gradient and *accumulates* (``+=``)
parameter gradients into ``grads``; ``zero_grad()`` resets them.

``config()`` returns the PyTorch constructor keyword arguments (what the model file's
``arch`` JSON stores besides ``type``); ``from_config(**cfg)`` rebuilds the layer.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]


class Layer:
    """Base class. Subclasses set ``type_name`` (the PyTorch class name)."""

    type_name: ClassVar[str] = "Layer"
    #: True for layers whose output is a sequence and that support ``step`` (RNN/LSTM/GRU).
    recurrent: ClassVar[bool] = False

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.training: bool = True

    # -- the contract -------------------------------------------------------------
    def forward(self, x: Array) -> tuple[Array, Any]:
        raise NotImplementedError

    def infer(self, x: Array) -> Array:
        """The output without a cache (inference); layers override it with a faster path."""
        return self.forward(x)[0]

    def backward(self, dy: Array, cache: Any) -> Array:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """PyTorch constructor keyword arguments (JSON-serialisable)."""
        return {}

    @classmethod
    def from_config(cls, **cfg: Any) -> Layer:
        return cls(**cfg)

    # -- shared helpers -----------------------------------------------------------
    def zero_grad(self) -> None:
        for name, p in self.params.items():
            self.grads[name] = np.zeros_like(p)

    def astype(self, dtype: Any) -> Layer:
        """Cast parameters (and grads) in place; returns self for chaining."""
        for name in list(self.params):
            self.params[name] = self.params[name].astype(dtype)
        self.zero_grad()
        return self

    def train(self, mode: bool = True) -> Layer:
        self.training = mode
        return self

    def eval(self) -> Layer:
        return self.train(False)

    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of the output for an input of ``input_shape`` (batch axis included)."""
        y, _ = self.forward(np.zeros(input_shape, dtype=np.float32))
        return tuple(y.shape)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{self.type_name}({args})"


def check_ndim(layer: Layer, x: np.ndarray, ndim: int, layout: str) -> None:
    """Raise ValueError naming the expected and received shapes."""
    if x.ndim != ndim:
        raise ValueError(
            f"{layer.type_name} expects input of shape {layout} ({ndim} dimensions), "
            f"got shape {tuple(x.shape)}"
        )
