"""The Digit Lab's experiments, Qt-free: edits on a working copy, replay over pen time, evidence.

- ``ModelEdits``: the unedited model and the user's edits (channel scales, kernels); the
  working model is ``experiments.edited_copy`` of the unedited one. Resetting hands back
  the unedited model object itself, so every output is bit for bit what it was.
- ``replay(session, steps)``: the drawing cut at ``steps`` points of pen time (points
  drawn so far, over all strokes) -> probabilities at each, for "when did it become a 7?".
- ``Evidence``: the model's held-out images (the same split training used), their
  confusion matrix, and the training images nearest to a drawing in the last hidden layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.analysis.edits import edited_copy, predict_probs
from explorer.engine import Model, RecurrentLayer

Channel = tuple[int, int]
Kernel = tuple[int, int, int]


@dataclass
class ModelEdits:
    """unedited: the model as loaded; scales (L, C) -> 0..2; kernels (L, C_out, C_in) -> (k, k)."""

    unedited: Model
    scales: dict[Channel, float] = field(default_factory=dict)
    kernels: dict[Kernel, np.ndarray] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.scales or self.kernels)

    def working_model(self) -> Model:
        """The unedited model itself when nothing is edited, else an edited copy."""
        return edited_copy(self.unedited, self.scales, self.kernels) if self.active else self.unedited

    def set_scale(self, layer: int, channel: int, scale: float) -> None:
        if float(scale) == 1.0:
            self.scales.pop((layer, channel), None)
        else:
            edited_copy(self.unedited, {(layer, channel): float(scale)})     # validates (ExperimentError)
            self.scales[(layer, channel)] = float(scale)

    def set_kernel(self, layer: int, c_out: int, c_in: int, kernel: np.ndarray) -> None:
        k = np.array(kernel, dtype=self.unedited.dtype)
        original = self.unedited.layers[layer].params["weight"][c_out, c_in]
        if k.shape == original.shape and np.array_equal(k, original):
            self.kernels.pop((layer, c_out, c_in), None)
        else:
            edited_copy(self.unedited, kernels={(layer, c_out, c_in): k})
            self.kernels[(layer, c_out, c_in)] = k

    def kernel(self, layer: int, c_out: int, c_in: int) -> np.ndarray:
        """The kernel as edited (or as learned)."""
        key = (layer, c_out, c_in)
        return self.kernels[key].copy() if key in self.kernels else \
            np.array(self.unedited.layers[layer].params["weight"][c_out, c_in])

    def edited_channels(self, layer: int) -> dict[int, str]:
        """Channel -> short mark ("off", "×1.5", "kernel") for one layer."""
        out: dict[int, str] = {}
        for (lay, c_out, _), _k in self.kernels.items():
            if lay == layer:
                out[c_out] = "kernel"
        for (lay, ch), s in self.scales.items():
            if lay == layer:
                out[ch] = "off" if s == 0 else f"×{s:g}"
        return out

    def describe(self) -> str:
        parts = [f"{lay}:{ch} {'off' if s == 0 else f'×{s:g}'}" for (lay, ch), s in sorted(self.scales.items())]
        parts += [f"kernel {lay}:{co}/{ci}" for (lay, co, ci) in sorted(self.kernels)]
        return ", ".join(parts) if parts else "no edits"


def pen_time(strokes: tuple[Any, ...]) -> int:
    """Total points drawn (all strokes): the replay's time axis."""
    return int(sum(len(s.points) for s in strokes))


def cut_strokes(strokes: tuple[Any, ...], t: int) -> tuple[Any, ...]:
    """The strokes as they were after ``t`` points of pen time (partial last stroke)."""
    out, left = [], int(t)
    for s in strokes:
        if left <= 0:
            break
        n = len(s.points)
        out.append(s if n <= left else type(s)(s.points[:left], s.width, s.erase))
        left -= n
    return tuple(out)


def replay(session: Any, steps: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (pen times (S,), probs (S, 10) float32 with NaN rows while nothing is classifiable
    yet, network inputs (S, 28, 28)) of the drawing's pen strokes cut at S points of pen time."""
    from explorer.session.digits import DrawingState, network_input

    strokes = tuple(s for s in session.state.strokes if not s.erase)
    total = pen_time(strokes)
    if total == 0:
        return np.zeros(0, np.int64), np.zeros((0, 10), np.float32), np.zeros((0, 28, 28), np.float32)
    times = np.unique(np.linspace(1, total, min(steps, total)).round().astype(np.int64))
    probs = np.full((len(times), 10), np.nan, np.float32)
    inputs = np.zeros((len(times), 28, 28), np.float32)
    for i, t in enumerate(times):
        x = network_input(DrawingState(cut_strokes(strokes, int(t))))
        if x is not None:
            inputs[i] = x[0, 0]
            probs[i] = session.live_probs(x)
    return times, probs, inputs


def last_hidden_index(model: Model) -> int:
    """Index of the output read as 'the last hidden layer': the output before the final Linear."""
    return len(model.layers) - 2


@dataclass(frozen=True)
class Evidence:
    """x_train / y_train, x_val / y_val: (N, 28, 28) float32 / int64; pred_val (N,); features of
    the training images in the last hidden layer (N, H); confusion (10, 10) true x predicted."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    pred_val: np.ndarray
    features: np.ndarray
    confusion: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(1, self.confusion.sum()))

    def cell(self, true: int, pred: int) -> np.ndarray:
        """Indices into x_val of the held-out images of class ``true`` read as ``pred``."""
        return np.flatnonzero((self.y_val == true) & (self.pred_val == pred))


def hidden_features(model: Model, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """x: (N, 28, 28) -> (N, H) the last hidden layer's output (CNN or row-RNN input)."""
    idx = last_hidden_index(model)
    reads_rows = bool(getattr(model.layers[0], "recurrent", False))
    out = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch] if reads_rows else x[i:i + batch, None]
        h = xb.astype(model.dtype)
        for layer in model.layers[:idx + 1]:
            h = layer.run(h)[0] if isinstance(layer, RecurrentLayer) else layer.forward(h)[0]
        out.append(np.asarray(h, np.float32).reshape(len(xb), -1))
    return np.concatenate(out)


def build_evidence(model: Model, data: Any = None) -> Evidence:
    """The held-out split training used (``training.digits.split_digits``) -> Evidence.
    Raises DataSourceError when no MNIST is on this machine."""
    from explorer.data.mnist import load_digits
    from explorer.training.digits import predict_proba, split_digits

    x_tr, y_tr, x_va, y_va = split_digits(data if data is not None else load_digits())
    pred = np.concatenate([predict_proba(model, x_va[i:i + 500]).argmax(1) for i in range(0, len(x_va), 500)])
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (y_va, pred), 1)
    return Evidence(x_tr[:, 0], y_tr, x_va[:, 0], y_va, pred, hidden_features(model, x_tr[:, 0]), confusion)


def nearest(evidence: Evidence, model: Model, x: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """x: (28, 28) drawing -> (indices into x_train (k,), Euclidean distances (k,)), nearest first."""
    f = hidden_features(model, np.asarray(x, np.float32).reshape(1, 28, 28))[0]
    d = np.sqrt(((evidence.features - f) ** 2).sum(1))
    order = np.argsort(d, kind="stable")[:k]
    return order, d[order]


def probs_of(model: Model, x: np.ndarray) -> np.ndarray:
    """(28, 28) -> (10,) float32, the same sums the live frame uses."""
    return np.asarray(predict_probs(model, x)[0], np.float32)
