"""Evidence: the model's held-out images (the same split training used), their confusion
matrix, and the training images nearest to a drawing in the last hidden layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.analysis.edits import reads_rows
from explorer.engine import Model, RecurrentLayer


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
    rows = reads_rows(model)
    out = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch] if rows else x[i:i + batch, None]
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
