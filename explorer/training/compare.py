"""CNN vs RNN on the same toy task, trained side by side (seeded, small, ≤ 60 s a run).

*long-range recall*: a key, ``distance`` fillers, then ``?``: answer the key. Both models
answer **at the ``?`` step**: the LSTM from the state it carried through the fillers, the
causal 1-D CNN from what its receptive field covers there (the input is padded on the
left only, so the last output sees exactly the last ``receptive_field()`` symbols).
Within the field the CNN solves it; beyond it the key is invisible and it is at chance
(25 %). Both models see the very same batches: a curriculum whose distances grow from 1
to the target distance over the first 60 % of the steps (without it, an LSTM trained
only at distance 50 does not get off the ground in a few hundred steps).

*local motif*: does ``abc`` occur anywhere? A CNN (Conv1d + global max-pool) finds it
wherever it is with a hundred-odd weights, and keeps working on longer sequences.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.data import tasks
from explorer.engine import (
    GRU,
    LSTM,
    Adam,
    Conv1d,
    Embedding,
    GlobalMaxPool1d,
    LastStep,
    Linear,
    Model,
    ReLU,
)
from explorer.engine.layer import Layer, check_ndim
from explorer.training.loop import classifier_step

CNN_KERNEL = 5
CNN_LAYERS = 2
CNN_CHANNELS = 14        # ~1.8 k parameters, like the 16-unit LSTM
RNN_HIDDEN = 16
MOTIF_LR = {"CNN": 1e-2, "LSTM": 1e-2}
MOTIF_STEPS = 400
# Conv1d(4, 64, 3) + max-pool + Linear: 962 parameters. With 8-32 kernels the CNN sometimes
# settled on a partial (2-gram) detector, right at length 30 and at chance at 120 (1-3 in 8
# seeds); 64 kernels give it enough lottery tickets (21 of 21 runs tried).
MOTIF_CHANNELS = 64
EMBED = 8
LONG_RANGE_DISTANCES = (1, 2, 4, 7, 8, 10, 20, 35, 50)
MOTIF_LENGTHS = (30, 60, 120)
CHANCE = {"long-range": 0.25, "motif": 0.5}


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


def one_hot(x: np.ndarray, n: int, left_pad: int = 0) -> np.ndarray:
    """x: (N, T) int ids -> (N, n, left_pad + T) float32 one-hot (channels first), zeros on the left."""
    out = np.zeros((x.shape[0], n, left_pad + x.shape[1]), dtype=np.float32)
    np.put_along_axis(out[:, :, left_pad:], x[:, None, :].astype(np.intp), 1.0, axis=1)
    return out


def receptive_field(kernel: int = CNN_KERNEL, layers: int = CNN_LAYERS) -> int:
    """Input positions one output of ``layers`` stacked stride-1 convolutions sees."""
    return layers * (kernel - 1) + 1


@dataclass
class Contender:
    """A named model plus how token ids become its input (ids (N, T) -> model input)."""

    name: str
    model: Model
    encode: Callable[[np.ndarray], np.ndarray]
    kind: str = "cnn"  # "cnn" | "rnn"

    @property
    def n_params(self) -> int:
        return self.model.n_params()


def make_cnn(vocab: int, n_classes: int, channels: int, rng: np.random.Generator,
             global_pool: bool, kernel: int = CNN_KERNEL, layers: int = CNN_LAYERS) -> Contender:
    """ids (N, T) -> logits (N, K). global_pool: Conv1d(k=3) + GlobalMaxPool1d (motif);
    otherwise a causal stack of ``layers`` convolutions read at the last position."""
    if global_pool:
        body: list[Layer] = [Conv1d(vocab, channels, 3, rng=rng), ReLU(), GlobalMaxPool1d()]
        return Contender("CNN", Model(body + [Linear(channels, n_classes, rng=rng)]),
                         lambda x: one_hot(x, vocab), "cnn")
    body = []
    for i in range(layers):
        body += [Conv1d(vocab if i == 0 else channels, channels, kernel, rng=rng), ReLU()]
    body += [TakeLast1d(), Linear(channels, n_classes, rng=rng)]
    pad = receptive_field(kernel, layers) - 1
    return Contender("CNN", Model(body), lambda x: one_hot(x, vocab, pad), "cnn")


def make_rnn(vocab: int, n_classes: int, hidden: int, rng: np.random.Generator,
             cell: str = "lstm") -> Contender:
    """ids (N, T) -> logits (N, K): Embedding -> LSTM|GRU -> LastStep -> Linear.

    An LSTM's forget-gate bias starts at 1 (Gers et al. 2000; Jozefowicz et al. 2015), so
    the cell remembers by default at the start of training.
    """
    rnn = (LSTM if cell == "lstm" else GRU)(EMBED, hidden, rng=rng)
    if cell == "lstm":
        rnn.params["bias_ih_l0"][hidden:2 * hidden] = 1.0
        rnn.params["bias_hh_l0"][hidden:2 * hidden] = 0.0
    model = Model([Embedding(vocab, EMBED, rng=rng), rnn, LastStep(),
                   Linear(hidden, n_classes, rng=rng)])
    return Contender(cell.upper(), model, lambda x: x, "rnn")


def train_step(c: Contender, opt: Adam, x: np.ndarray, y: np.ndarray, clip: float = 5.0
               ) -> tuple[float, float]:
    """One Adam step on ids x: (N, T), labels y: (N,) -> (loss, batch accuracy) (the one
    ``classifier_step``)."""
    m = classifier_step(c.model, opt, clip, transform=c.encode)((x, y))
    return m["loss"], m.get("acc", float("nan"))


def accuracy(c: Contender, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of x: (N, T) ids whose predicted class equals y: (N,)."""
    c.model.eval()
    return float((c.model.predict(c.encode(x)).argmax(-1) == y).mean())


def curriculum_distance(step: int, steps: int, distance: int, rng: np.random.Generator) -> int:
    """A training distance in [1, hi], hi growing from 1 to ``distance`` over 60 % of the steps."""
    hi = max(1, min(distance, int(np.ceil(distance * (step + 1) / max(0.6 * steps, 1)))))
    return int(rng.integers(1, hi + 1)) if distance > 1 else distance


def recall_batch(step: int, steps: int, distance: int, batch: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The curriculum's batch for ``step``: x (batch, d + 2) ids, y (batch,) keys."""
    d = curriculum_distance(step, steps, distance, rng)
    return tasks.make_sequences("recall", batch, d + 2, rng)


def balanced_test(task: str, n: int, length: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """x: (n', length) ids, y: (n',) with every class equally often (n' <= n): a model that
    cannot see the answer then scores chance exactly, whatever constant it guesses."""
    k = tasks.get_task(task).n_classes
    x, y = tasks.make_sequences(task, 2 * n, length, rng)
    per = min(n // k, int(np.bincount(y, minlength=k).min()))
    keep = np.sort(np.concatenate([np.flatnonzero(y == c)[:per] for c in range(k)]))
    return x[keep], y[keep]


def input_influence(c: Contender, x: np.ndarray, target: int) -> np.ndarray:
    """x: (1, T) ids -> (T,) float64: squared norm of d logit[target] / d input at each step.

    Through ``Model.backward``: for the RNN the input is the embedding vector of each step,
    for the CNN the one-hot column. Positions outside the CNN's field get exactly 0.
    Parameter gradients are left as they were.
    """
    x = np.asarray(x)
    layers = c.model.layers
    saved = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    try:
        if c.kind == "rnn":
            inp, sub = layers[0].infer(x), Model(layers[1:])
        else:
            inp, sub = c.encode(x), c.model
        out = sub.forward(inp)
        d = np.zeros_like(out)
        d[0, int(target)] = 1.0
        dx = np.asarray(sub.backward(d), np.float64)[0]
    finally:
        for layer, grads in zip(layers, saved):
            layer.grads.update(grads)
    if c.kind == "rnn":
        return (dx ** 2).sum(axis=-1)
    return (dx ** 2).sum(axis=0)[-x.shape[1]:]


@dataclass
class CompareResult:
    task: str
    axis: str  # what the rows vary: "distance" or "length"
    rows: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)
    receptive_field: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "axis": self.axis, "rows": self.rows, "params": self.params,
                "cnn_receptive_field": self.receptive_field, "chance": CHANCE[self.task],
                "seconds": round(self.seconds, 2)}


def train_recall_pair(distance: int, seed: int = 0, steps: int = 400, batch: int = 32,
                      lr: float = 1e-2) -> tuple[Contender, Contender]:
    """A fresh causal CNN and LSTM trained on the same curriculum batches up to ``distance``."""
    task = tasks.get_task("recall")
    vocab, k = len(task.alphabet), task.n_classes
    rng = np.random.default_rng([seed, distance])
    pair = (make_cnn(vocab, k, CNN_CHANNELS, rng, global_pool=False),
            make_rnn(vocab, k, RNN_HIDDEN, rng))
    opts = [Adam(c.model.parameters(), lr=lr) for c in pair]
    for s in range(steps):
        x, y = recall_batch(s, steps, distance, batch, rng)
        for c, opt in zip(pair, opts):
            train_step(c, opt, x, y)
    return pair


def long_range(seed: int = 0, distances: tuple[int, ...] = LONG_RANGE_DISTANCES,
               steps: int = 400, batch: int = 32, n_test: int = 800,
               progress: Callable[[str], None] | None = None) -> CompareResult:
    """For each distance: train a fresh CNN and LSTM, test both on unseen sequences at it."""
    t0 = time.perf_counter()
    result = CompareResult("long-range", "distance", receptive_field=receptive_field())
    for d in distances:
        pair = train_recall_pair(d, seed, steps, batch)
        xt, yt = balanced_test("recall", n_test, d + 2, np.random.default_rng([seed, d, 1]))
        row: dict[str, Any] = {"distance": d, "in_field": d + 2 <= result.receptive_field}
        for c in pair:
            row[c.name] = accuracy(c, xt, yt)
            result.params[c.name] = c.n_params
        result.rows.append(row)
        if progress:
            progress(f"distance {d}: " + ", ".join(f"{c.name} {row[c.name]:.0%}" for c in pair))
    result.seconds = time.perf_counter() - t0
    return result


def motif(seed: int = 0, lengths: tuple[int, ...] = MOTIF_LENGTHS, steps: int = MOTIF_STEPS,
          batch: int = 32, n_test: int = 800,
          progress: Callable[[str], None] | None = None) -> CompareResult:
    """Train once at the first length; test at every length (position invariance)."""
    t0 = time.perf_counter()
    task = tasks.get_task("motif")
    vocab, k = len(task.alphabet), task.n_classes
    rng = np.random.default_rng(seed)
    contenders = [make_cnn(vocab, k, MOTIF_CHANNELS, rng, global_pool=True), make_rnn(vocab, k, RNN_HIDDEN, rng)]
    opts = [Adam(c.model.parameters(), lr=MOTIF_LR[c.name]) for c in contenders]
    for _ in range(steps):
        x, y = tasks.make_sequences("motif", batch, lengths[0], rng)
        for c, opt in zip(contenders, opts):
            train_step(c, opt, x, y)
    result = CompareResult("motif", "length", receptive_field=3)
    for length in lengths:
        xt, yt = balanced_test("motif", n_test, length, np.random.default_rng([seed, length]))
        result.rows.append({"length": length, **{c.name: accuracy(c, xt, yt) for c in contenders}})
        if progress:
            progress(f"length {length}: " + ", ".join(f"{c.name} {result.rows[-1][c.name]:.0%}"
                                                       for c in contenders))
    result.params = {c.name: c.n_params for c in contenders}
    result.seconds = time.perf_counter() - t0
    return result


def format_result(r: CompareResult) -> str:
    """A plain-text table: one row per distance (or length), one column per model."""
    names = list(r.params)
    lines = [f"{r.task}: accuracy by {r.axis} (CNN receptive field {r.receptive_field} steps, "
             f"chance {CHANCE[r.task]:.0%})",
             f"{r.axis:>10s} " + " ".join(f"{n:>8s}" for n in names)]
    for row in r.rows:
        lines.append(f"{int(row[r.axis]):>10d} " + " ".join(f"{row[n]:>8.1%}" for n in names))
    lines.append("parameters " + " ".join(f"{r.params[n]:>8d}" for n in names))
    lines.append(f"({r.seconds:.1f} s)")
    return "\n".join(lines)


def run_cli(args: argparse.Namespace) -> int:
    """``cnn-rnn-explorer compare --task long-range|motif|text [--json] [--seed N]``.

    ``args.distances`` / ``args.lengths`` / ``args.steps`` (optional, set by ``main`` below)
    shrink the run for tests and quick looks.
    """
    if args.task == "text":                       # CNN vs RNN on real text (shipped models)
        from explorer.training.compare_text import format_text_result, text_compare
        chars = getattr(args, "chars", None)
        res = text_compare(int(chars) if chars else None)
        print(json.dumps(res, indent=2) if args.json else format_text_result(res))
        return 0
    say = None if args.json else (lambda s: print(s, file=sys.stderr, flush=True))
    seed = getattr(args, "seed", 0)
    kw: dict[str, Any] = {}
    if getattr(args, "steps", None):
        kw["steps"] = int(args.steps)
    if args.task == "long-range":
        if getattr(args, "distances", None):
            kw["distances"] = tuple(args.distances)
        result = long_range(seed, progress=say, **kw)
    else:
        if getattr(args, "lengths", None):
            kw["lengths"] = tuple(args.lengths)
        result = motif(seed, progress=say, **kw)
    print(json.dumps(result.to_json(), indent=2) if args.json else format_result(result))
    return 0


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    """``python -m explorer.training.compare``: the CLI's experiment plus size knobs."""
    p = argparse.ArgumentParser(prog="python -m explorer.training.compare")
    p.add_argument("--task", choices=["long-range", "motif", "text"], required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--distances", type=_ints, default=None, help="e.g. 1,4,12")
    p.add_argument("--lengths", type=_ints, default=None, help="e.g. 20,40")
    p.add_argument("--chars", type=int, default=None, help="text: held-out characters to read")
    return run_cli(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
