"""CNN vs RNN on the same toy task, trained side by side (seeded, small, ≤ 60 s a run).

*long-range recall*: a key, ``distance`` fillers, then ``?``: answer the key. Both models
answer **at the ``?`` step**: the RNN from the state it carried through the fillers, the
1-D CNN from what its receptive field covers there. Within the field the CNN solves it;
beyond it the key is invisible to it and it is at chance (25 %).

*local motif*: does ``abc`` occur anywhere? A CNN (Conv1d + global max-pool) finds it
wherever it is with a hundred-odd weights, and keeps working on longer sequences.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.data import tasks
from explorer.engine import (GRU, LSTM, Adam, Conv1d, Embedding, GlobalMaxPool1d, LastStep,
                             Linear, Model, ReLU, clip_grad_norm, cross_entropy)
from explorer.engine.layer import Layer, check_ndim

CNN_KERNEL = 5
CNN_LAYERS = 2
LONG_RANGE_DISTANCES = (1, 2, 4, 7, 10, 20, 35, 50)
MOTIF_LENGTHS = (30, 60, 120)


class TakeLast1d(Layer):
    """x: (N, C, L) -> y: (N, C), the last position: where a causal CNN answers."""

    type_name = "TakeLast1d"

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        check_ndim(self, x, 3, "(N, C, L)")
        return x[:, :, -1].copy(), x.shape

    def backward(self, dy: np.ndarray, cache: Any) -> np.ndarray:
        dx = np.zeros(cache, dtype=dy.dtype)
        dx[:, :, -1] = dy
        return dx


def one_hot(x: np.ndarray, n: int) -> np.ndarray:
    """x: (N, T) int ids -> (N, n, T) float32 one-hot, the CNN's channels-first input."""
    out = np.zeros((x.shape[0], n, x.shape[1]), dtype=np.float32)
    np.put_along_axis(out, x[:, None, :].astype(np.intp), 1.0, axis=1)
    return out


def receptive_field(kernel: int = CNN_KERNEL, layers: int = CNN_LAYERS) -> int:
    """Input positions one output of ``layers`` stacked stride-1 convolutions sees."""
    return layers * (kernel - 1) + 1


@dataclass
class Contender:
    name: str
    model: Model
    encode: Callable[[np.ndarray], np.ndarray]  # ids (N, T) -> model input

    @property
    def n_params(self) -> int:
        return self.model.n_params()


def make_cnn(vocab: int, n_classes: int, channels: int, rng: np.random.Generator,
             global_pool: bool) -> Contender:
    layers: list[Layer] = [Conv1d(vocab, channels, CNN_KERNEL if not global_pool else 3, rng=rng), ReLU()]
    if not global_pool:
        for _ in range(CNN_LAYERS - 1):
            layers += [Conv1d(channels, channels, CNN_KERNEL, rng=rng), ReLU()]
    layers += [GlobalMaxPool1d() if global_pool else TakeLast1d(), Linear(channels, n_classes, rng=rng)]
    return Contender("CNN", Model(layers), lambda x: one_hot(x, vocab))


def make_rnn(vocab: int, n_classes: int, hidden: int, rng: np.random.Generator,
             cell: str = "lstm") -> Contender:
    rnn = (LSTM if cell == "lstm" else GRU)(8, hidden, rng=rng)
    model = Model([Embedding(vocab, 8, rng=rng), rnn, LastStep(), Linear(hidden, n_classes, rng=rng)])
    return Contender(cell.upper(), model, lambda x: x)


def train(c: Contender, data: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]],
          steps: int, rng: np.random.Generator, lr: float = 1e-2) -> list[float]:
    """Adam on fresh batches from ``data(rng)``; returns the loss per step."""
    opt = Adam(c.model.parameters(), lr=lr)
    losses = []
    c.model.train()
    for _ in range(steps):
        x, y = data(rng)
        c.model.zero_grad()
        loss, d = cross_entropy(c.model.forward(c.encode(x)), y)
        c.model.backward(d)
        grads = c.model.gradients()
        clip_grad_norm(grads, 5.0)
        opt.step(grads)
        losses.append(float(loss))
    return losses


def accuracy(c: Contender, x: np.ndarray, y: np.ndarray) -> float:
    c.model.eval()
    return float((c.model.predict(c.encode(x)).argmax(-1) == y).mean())


@dataclass
class CompareResult:
    task: str
    axis: str  # what the rows vary: "distance" or "length"
    rows: list[dict[str, float]] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)
    receptive_field: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "axis": self.axis, "rows": self.rows, "params": self.params,
                "cnn_receptive_field": self.receptive_field, "seconds": round(self.seconds, 2)}


def long_range(seed: int = 0, distances: tuple[int, ...] = LONG_RANGE_DISTANCES,
               steps: int = 300, batch: int = 32, n_test: int = 400,
               progress: Callable[[str], None] | None = None) -> CompareResult:
    """Train a fresh CNN and LSTM at each distance; accuracy on unseen sequences."""
    t0 = time.perf_counter()
    task = tasks.get_task("recall")
    vocab, k = len(task.alphabet), task.n_classes
    result = CompareResult("long-range", "distance", receptive_field=receptive_field())
    for d in distances:
        rng = np.random.default_rng([seed, d])
        data = lambda r, d=d: tasks.make_sequences("recall", batch, d + 2, r)  # noqa: E731
        row: dict[str, float] = {"distance": d}
        for c in (make_cnn(vocab, k, 12, rng, global_pool=False), make_rnn(vocab, k, 16, rng)):
            train(c, data, steps, rng)
            xt, yt = tasks.make_sequences("recall", n_test, d + 2, np.random.default_rng([seed, d, 1]))
            row[c.name] = accuracy(c, xt, yt)
            result.params[c.name] = c.n_params
        result.rows.append(row)
        if progress:
            progress(f"distance {d}: " + ", ".join(f"{n} {v:.0%}" for n, v in row.items() if n != "distance"))
    result.seconds = time.perf_counter() - t0
    return result


def motif(seed: int = 0, lengths: tuple[int, ...] = MOTIF_LENGTHS, steps: int = 300,
          batch: int = 32, n_test: int = 400,
          progress: Callable[[str], None] | None = None) -> CompareResult:
    """Train once at the first length; test at every length (position invariance)."""
    t0 = time.perf_counter()
    task = tasks.get_task("motif")
    vocab, k = len(task.alphabet), task.n_classes
    rng = np.random.default_rng(seed)
    train_len = lengths[0]
    data = lambda r: tasks.make_sequences("motif", batch, train_len, r)  # noqa: E731
    contenders = [make_cnn(vocab, k, 8, rng, global_pool=True), make_rnn(vocab, k, 16, rng)]
    for c in contenders:
        train(c, data, steps, rng)
    result = CompareResult("motif", "length", receptive_field=3)
    for length in lengths:
        xt, yt = tasks.make_sequences("motif", n_test, length, np.random.default_rng([seed, length]))
        result.rows.append({"length": length, **{c.name: accuracy(c, xt, yt) for c in contenders}})
        if progress:
            progress(f"length {length}: " + ", ".join(f"{c.name} {result.rows[-1][c.name]:.0%}" for c in contenders))
    result.params = {c.name: c.n_params for c in contenders}
    result.seconds = time.perf_counter() - t0
    return result


def format_result(r: CompareResult) -> str:
    names = list(r.params)
    lines = [f"{r.task}: accuracy by {r.axis} (CNN receptive field {r.receptive_field} steps)",
             f"{r.axis:>10s} " + " ".join(f"{n:>8s}" for n in names)]
    for row in r.rows:
        lines.append(f"{int(row[r.axis]):>10d} " + " ".join(f"{row[n]:>8.1%}" for n in names))
    lines.append("parameters " + " ".join(f"{r.params[n]:>8d}" for n in names))
    lines.append(f"({r.seconds:.1f} s)")
    return "\n".join(lines)


def run_cli(args: argparse.Namespace) -> int:
    import sys
    say = None if args.json else (lambda s: print(s, file=sys.stderr))
    result = long_range(args.seed, progress=say) if args.task == "long-range" else motif(args.seed, progress=say)
    print(json.dumps(result.to_json(), indent=2) if args.json else format_result(result))
    return 0
