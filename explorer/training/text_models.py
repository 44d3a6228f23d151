"""Sequence models for the Sequence Lab: char models, their state handling, and toy-language models.

A char model is ``Embedding(V, E) -> LSTM|GRU|RNN(E, H) -> Linear(H, V)``; a toy-language
model is the same shape with the task's alphabet in and its classes out. This module holds
what both share (building, carrying a recurrent state from one chunk to the next, scoring a
stream) and the toy-task trainer; ``explorer.training.text`` trains and scores char models.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import numpy as np

from explorer.data import tasks
from explorer.engine import (
    GRU,
    LSTM,
    RNN,
    Adam,
    Embedding,
    Linear,
    Model,
    RecurrentLayer,
    clip_grad_norm,
    cross_entropy,
    log_softmax,
)
from explorer.errors import ExplorerError
from explorer.training import text_transformer
from explorer.training.loop import Event, classifier_step, evaluate_classifier, fit
from explorer.training.progress import ProgressBar

CELLS: dict[str, type] = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
LOG2E = 1.0 / math.log(2.0)
State = Any  # (N, H) array, or (h, c) for an LSTM


class TrainingError(ExplorerError, ValueError):
    """Settings that cannot train a model (unknown cell, hidden size out of range, ...)."""


def build_sequence_model(n_in: int, n_out: int, cell: str, hidden: int, embed: int,
                         rng: np.random.Generator, meta: dict[str, Any] | None = None,
                         shape: dict[str, int] | None = None) -> Model:
    """ids (N, T) int -> logits (N, T, n_out): Embedding(n_in, embed) -> cell(embed, hidden) -> Linear;
    cell "transformer": ``text_transformer.build_transformer`` of width ``hidden`` with
    ``shape`` = {heads, layers, ff, context}."""
    if cell == "transformer":
        sh = shape or {}
        try:
            return text_transformer.build_transformer(
                n_in, n_out, int(hidden), sh.get("heads", 2), sh.get("layers", 2),
                sh.get("ff", 2 * int(hidden)), sh.get("context", 64), rng, meta=meta)
        except ValueError as exc:
            raise TrainingError(f"cannot build that transformer: {exc}") from None
    if cell not in CELLS:
        raise TrainingError(f"unknown cell {cell!r}: use one of {', '.join(CELLS)}")
    if not 1 <= int(hidden) <= 2048:
        raise TrainingError(f"hidden size must be between 1 and 2048, got {hidden}")
    layers = [Embedding(n_in, embed, rng=rng), CELLS[cell](embed, int(hidden), rng=rng),
              Linear(int(hidden), n_out, rng=rng)]
    return Model(layers, meta)


def recurrent_layer(model: Model) -> Any:
    """The model's recurrent layer (index 1 of Embedding -> cell -> Linear)."""
    for layer in model.layers:
        if getattr(layer, "recurrent", False):
            return layer
    raise TrainingError("the model has no recurrent layer")


def final_state(layer: Any, cache: Any) -> State:
    """The state after the last step of ``layer.forward``'s cache, copied (detached).

    The cache of the engine's recurrent layers is (x, initial state, hs (T, N, H), saved),
    with saved = (activations, cs (T, N, H)) for an LSTM; the tests pin this against run().
    """
    _, st, hs, saved = cache
    if hs.shape[0] == 0:
        return tuple(s.copy() for s in st) if len(st) > 1 else st[0].copy()
    if isinstance(layer, LSTM):
        return hs[-1].copy(), saved[1][-1].copy()
    return hs[-1].copy()


def tbptt_step(model: Model, x: np.ndarray, y: np.ndarray, state: State, opt: Adam,
               clip: float, dropout: float = 0.0, rng: np.random.Generator | None = None
               ) -> tuple[float, State]:
    """One truncated-BPTT update on x, y: (B, T) ids from ``state``; -> (loss in nats, new state).

    ``dropout`` > 0 zeroes that fraction of the hidden outputs on their way to the Linear
    (inverted dropout, masks from ``rng``), a regulariser of training only: the recurrence
    itself and the saved model are untouched (Zaremba et al.'s non-recurrent dropout)."""
    emb, rec, lin = model.layers[0], cast(RecurrentLayer, model.layers[1]), model.layers[2]
    model.train()
    model.zero_grad()
    e, c_emb = emb.forward(x)
    h, c_rec = rec.forward(e, state)
    mask = None
    if dropout > 0:
        rng = rng if rng is not None else np.random.default_rng()
        mask = (rng.random(h.shape) >= dropout).astype(h.dtype) / h.dtype.type(1.0 - dropout)
        h = h * mask
    logits, c_lin = lin.forward(h)
    loss, dlogits = cross_entropy(logits, y)
    new_state = final_state(rec, c_rec)
    if not np.isfinite(loss):
        return float(loss), new_state
    dh = lin.backward(dlogits, c_lin)
    if mask is not None:
        dh = dh * mask
    emb.backward(rec.backward(dh, c_rec), c_emb)
    grads = model.gradients()
    clip_grad_norm(grads, clip)
    opt.step(grads)
    return float(loss), new_state


def chunk_bits(model: Model, x: np.ndarray, y: np.ndarray, state: State
               ) -> tuple[np.ndarray, State]:
    """x, y: (N, T) ids -> (bits (N, T) = -log2 P(y | x and the past), state after the chunk).

    A transformer's "state" is the ids of its current window (``text_transformer.chunk_bits``)."""
    if text_transformer.is_transformer(model):
        return text_transformer.chunk_bits(model, x, y, state)
    emb, rec, lin = model.layers[0], cast(RecurrentLayer, model.layers[1]), model.layers[2]
    hs, state, _ = rec.run(emb.infer(x), state)
    logp = log_softmax(lin.infer(hs))
    bits = -np.take_along_axis(logp, y[..., None].astype(np.int64), axis=-1)[..., 0] * LOG2E
    return bits, state


def stream_bits_per_char(model: Model, ids: np.ndarray, lanes: int = 32, chunk: int = 256
                         ) -> tuple[float, int]:
    """ids: (n,) int -> (mean bits per predicted char, number predicted).

    The stream is cut into ``lanes`` contiguous lanes read side by side with the state
    carried from chunk to chunk; each lane's first character is context only.
    """
    ids = np.asarray(ids, dtype=np.int64)
    lanes = max(1, min(lanes, (len(ids) - 1) // 2))
    if len(ids) < 2:
        raise TrainingError("need at least two characters to measure bits per character")
    per = len(ids) // lanes
    grid = ids[: per * lanes].reshape(lanes, per)
    state, total, count = None, 0.0, 0
    for s in range(0, per - 1, chunk):
        x, y = grid[:, s:min(s + chunk, per - 1)], grid[:, s + 1:min(s + chunk, per - 1) + 1]
        bits, state = chunk_bits(model, x, y, state)
        total += float(bits.sum(dtype=np.float64))
        count += bits.size
    return total / count, count


# ----------------------------------------------------------------------------- toy tasks
# Per task: cell, hidden, embed, training length, steps, batch, lr (hidden 2-16 so it is readable).
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "parity": {"cell": "gru", "hidden": 2, "embed": 2, "steps": 3000, "batch": 32, "lr": 0.01},
    "depth": {"cell": "gru", "hidden": 6, "embed": 2, "steps": 3000, "batch": 32, "lr": 0.01},
    "anbn": {"cell": "gru", "hidden": 4, "embed": 2, "steps": 1500, "batch": 32, "lr": 0.01},
    "recall": {"cell": "gru", "hidden": 8, "embed": 8, "steps": 1500, "batch": 32, "lr": 0.01},
    "motif": {"cell": "gru", "hidden": 4, "embed": 4, "steps": 1500, "batch": 32, "lr": 0.01},
}
#: a toy transformer: width 16, 2 blocks of 2 heads, its context the training length
TASK_TRANSFORMER: dict[str, Any] = {"hidden": 16, "heads": 2, "layers": 2, "ff": 32,
                                    "steps": 2000, "batch": 32, "lr": 3e-3}


def task_accuracy(model: Model, task: str, length: int, seed: int, n: int = 1000) -> float:
    """Per-step accuracy over the scored steps of ``n`` fresh sequences of ``length``
    (a transformer reads beyond its context by the Sequence Lab's window rule)."""
    batch = tasks.make(task, n, length, np.random.default_rng(seed))
    if text_transformer.is_transformer(model):
        model.eval()
        hit = text_transformer.predict_windows(model, batch.x).argmax(-1) == batch.y
        return float(hit[batch.mask].mean())
    return float(evaluate_classifier(model, batch.x, batch.y, batch.mask, batch_size=250)["acc"])


def train_task(task: str, *, cell: str | None = None, hidden: int | None = None,
               length: int | None = None, steps: int | None = None, seed: int = 0,
               progress: bool = True, callback: Callable[[Event], None] | None = None,
               cancel: threading.Event | None = None,
               shape: dict[str, int] | None = None) -> tuple[Model, dict[str, Any]]:
    """Train a small recurrent model (or, with cell "transformer", a small causal transformer
    whose context is the training length; ``shape``: heads, layers, ff, context) on a toy
    language; -> (model, summary figures).

    Per-step masked cross-entropy on fresh ``tasks.make`` batches, Adam, clipping at 1.0.
    """
    spec = tasks.get_task(task)
    cfg = dict(TASK_DEFAULTS.get(task, TASK_DEFAULTS["motif"]))
    if cell == "transformer":
        cfg.update(TASK_TRANSFORMER, cell="transformer", embed=TASK_TRANSFORMER["hidden"])
    cfg.update({k: v for k, v in (("cell", cell), ("hidden", hidden), ("steps", steps)) if v is not None})
    length = spec.default_length if length is None else int(length)
    if length < 2:
        raise TrainingError(f"training length must be at least 2, got {length}")
    rng = np.random.default_rng(seed)
    tshape = {k: int(v) for k, v in TASK_TRANSFORMER.items() if k in ("heads", "layers", "ff")}
    tshape.update({"context": length, **(shape or {})})
    if cell == "transformer":
        cfg["embed"] = cfg["hidden"]
        if tshape["context"] < length:
            raise TrainingError(f"the context ({tshape['context']}) must hold the training "
                                f"length ({length})")
    model = build_sequence_model(len(spec.alphabet), spec.n_classes, cfg["cell"], cfg["hidden"],
                                 cfg["embed"], rng, shape=tshape)
    opt = Adam(model.parameters(), lr=cfg["lr"])
    step_fn = classifier_step(model, opt, clip=1.0)
    n_steps = int(cfg["steps"])
    if n_steps < 1:
        raise TrainingError(f"steps must be at least 1, got {n_steps}")

    def batches(_epoch: int) -> Iterator[tuple[np.ndarray, ...]]:
        data_rng = np.random.default_rng([seed, 1])
        for k in range(n_steps):
            opt.lr = cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * k / n_steps)))
            b = tasks.make(task, cfg["batch"], length, data_rng)
            yield b.x, b.y, b.mask

    bar = ProgressBar(n_steps, f"train {task}", enabled=progress)
    smooth: dict[str, float] = {}

    def on_event(ev: Event) -> None:
        if ev.kind == "step":
            for k, v in ev.metrics.items():
                smooth[k] = v if k not in smooth else 0.95 * smooth[k] + 0.05 * v
            bar.update(**smooth)
        if callback is not None:
            callback(ev)

    start, cpu = time.perf_counter(), time.process_time()
    history = fit(step_fn, batches, 1, n_steps, model=model, callback=on_event, cancel=cancel)
    bar.close()
    model.eval()
    acc1 = task_accuracy(model, task, length, seed + 1000)
    acc2 = task_accuracy(model, task, 2 * length, seed + 2000)
    model.meta = {
        "task": "toy", "toy_task": task, "alphabet": spec.alphabet, "classes": list(spec.class_names),
        "description": spec.description, "vocab": spec.vocab.to_meta(), "cell": cfg["cell"],
        "hidden": int(cfg["hidden"]), "embed": int(cfg["embed"]), "train_length": length,
        "acc_train_length": round(acc1, 5), "acc_double_length": round(acc2, 5), "seed": int(seed),
        "steps": len(history.steps), "batch_size": cfg["batch"], "lr": cfg["lr"],
        "train_seconds": round(time.perf_counter() - start, 1),
        "train_cpu_seconds": round(time.process_time() - cpu, 1),
    }
    if cfg["cell"] == "transformer":
        model.meta.update({"layers": tshape["layers"], "heads": tshape["heads"],
                           "context": tshape["context"], "ff": tshape["ff"], "norm_first": True,
                           "activation": "relu"})
    return model, dict(model.meta)
