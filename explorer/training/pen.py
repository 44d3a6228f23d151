"""Train the pen readers: an LSTM (or GRU) that reads a drawing as pen events, causally.

``train_pen(out, cell, hidden, data)`` reads real pen digits (``explorer.data.unipen``, a
path given on the command line), holds out about 20 % of the writers of every source
(whole writers, seeded), and trains ``[LSTM|GRU(F, H), Linear(H, 10)]`` on the pen
encoding of ``explorer.data.pen`` — the very rows the Digit Lab's live reader makes while
the pen moves. Every epoch draws each training digit afresh: placed on the 280 canvas at
a random size and position, then a random writer (rotation, slant, aspect, wobble,
sampling rate, pen lifts); a share of every epoch is the app's own synthetic styles
(``explorer.data.styles``: flagged 1s, crossed 7s, open 4s, straight-tailed 9s).

The loss is the cross-entropy of the reading after the last pen event (the one the
figures report), plus ``EARLY`` times the mean cross-entropy over every earlier step, so
that the reading over pen time means something while the digit is still being drawn.
Sequences are batched by length (right-padded; a causal reader never sees the padding).
Same seed and same Python: the same file, bit for bit.
"""

from __future__ import annotations

import math
import os
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from explorer.data.pen import PenSpec, pen_features
from explorer.data.styles import STYLE_NAMES, STYLES, style_strokes
from explorer.data.unipen import DEFAULT_PATH, PenDigits, augment_digit, load_unipen, place_on_canvas, writer_split
from explorer.engine import GRU, LSTM, Adam, Linear, Model, clip_grad_norm, log_softmax, save_model
from explorer.errors import UserError
from explorer.training.loop import Event, fit
from explorer.training.progress import ProgressBar

__all__ = ["CELLS", "build_pen_model", "command_line", "encode", "final_probabilities",
           "heldout_report", "train_pen", "train_pen_cli"]

CELLS = ("lstm", "gru")
DEFAULT_HIDDEN = 64
DEFAULT_EPOCHS = 20
BATCH_SIZE = 48
PEAK_LR, FINAL_LR, WARMUP = 4e-3, 1e-4, 0.03
EARLY = 0.3                 # weight of the mean loss over the steps before the last
CLIP = 1.0
STYLE_SHARE = 0.06          # extra synthetic-style digits per epoch, as a share of the real ones
REVERSE_SHARE = 0.0         # default share of training digits with one stroke drawn backwards
HELD_OUT_SEED = 7           # placement of the held-out digits (fixed: same figures every run)


def build_pen_model(cell: str = "lstm", hidden: int = DEFAULT_HIDDEN, spec: PenSpec | None = None,
                    seed: int = 0) -> Model:
    """A fresh seeded pen reader: (N, T, F) pen rows -> (N, T, 10) logits."""
    spec = spec or PenSpec()
    rng = np.random.default_rng([seed, 31])
    if cell not in CELLS:
        raise UserError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    rnn = LSTM(spec.n_features, hidden, rng=rng) if cell == "lstm" else GRU(spec.n_features, hidden, rng=rng)
    return Model([rnn, Linear(hidden, 10, rng=rng)],
                 meta={"task": "digits", "input": "pen", "pen": spec.to_meta()})


def encode(digits: Sequence[list[np.ndarray]], spec: PenSpec) -> list[np.ndarray]:
    """Canvas strokes per digit -> pen rows per digit ((T, F) float32 each)."""
    return [pen_features(d, spec) for d in digits]


def _padded(seqs: Sequence[np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """-> x (n, T_max, F) right-padded with zeros, lengths (n,)."""
    lengths = np.array([len(seqs[i]) for i in idx], np.int64)
    x = np.zeros((len(idx), int(lengths.max()), seqs[idx[0]].shape[1]), np.float32)
    for j, i in enumerate(idx):
        x[j, :lengths[j]] = seqs[i]
    return x, lengths


def _by_length(seqs: Sequence[np.ndarray], batch: int, rng: np.random.Generator | None = None
               ) -> list[np.ndarray]:
    """Index batches of similar length (less padding); shuffled within lengths when rng."""
    lengths = np.array([len(s) for s in seqs], np.float64)
    if rng is not None:
        lengths = lengths + rng.uniform(0, 4, len(lengths))
    order = np.argsort(lengths, kind="stable")
    chunks = [order[i:i + batch] for i in range(0, len(order), batch)]
    if rng is not None:
        chunks = [chunks[k] for k in rng.permutation(len(chunks))]
    return chunks


def final_probabilities(model: Model, seqs: Sequence[np.ndarray], batch: int = 256) -> np.ndarray:
    """The reading after the last pen event of every sequence -> (N, 10) float64."""
    model.eval()
    out = np.zeros((len(seqs), 10), np.float64)
    for idx in _by_length(seqs, batch):
        x, lengths = _padded(seqs, idx)
        logits = model.predict(x)[np.arange(len(idx)), lengths - 1]
        out[idx] = np.exp(log_softmax(logits.astype(np.float64)))
    return out


def _pen_step(model: Model, opt: Adam, seqs: list[np.ndarray], labels: np.ndarray,
              schedule: Callable[[], None], early: float = EARLY
              ) -> Callable[[np.ndarray], dict[str, float]]:
    def step(idx: np.ndarray) -> dict[str, float]:
        schedule()
        x, lengths = _padded(seqs, idx)
        y = labels[idx]
        n, t_max = x.shape[:2]
        model.train()
        model.zero_grad()
        logits = model.forward(x)
        logp = log_softmax(logits.astype(np.float64))
        p = np.exp(logp)
        valid = np.arange(t_max)[None] < lengths[:, None]
        last = np.zeros((n, t_max), np.float64)
        last[np.arange(n), lengths - 1] = 1.0
        w = last + early * valid / lengths[:, None]          # per-position weight
        nll = -logp[np.arange(n)[:, None], np.arange(t_max)[None], y[:, None]]
        loss = float((w * nll).sum() / n)
        if not math.isfinite(loss):
            return {"loss": loss}
        target = np.zeros_like(p)
        target[np.arange(n)[:, None], np.arange(t_max)[None], y[:, None]] = 1.0
        dlogits = ((p - target) * (w / n)[..., None]).astype(logits.dtype)
        model.backward(dlogits, input_grad=False)
        grads = model.gradients()
        clip_grad_norm(grads, CLIP)
        opt.step(grads)
        acc = float((logits[np.arange(n), lengths - 1].argmax(-1) == y).mean())
        return {"loss": loss, "acc": acc}
    return step


def heldout_report(probs: np.ndarray, labels: np.ndarray, sources: np.ndarray) -> dict[str, Any]:
    """Accuracy overall, per digit and per source of (N, 10) readings."""
    hit = probs.argmax(1) == labels
    return {
        "accuracy": round(float(hit.mean()), 5),
        "per_digit": [round(float(hit[labels == d].mean()), 4) if (labels == d).any() else None
                      for d in range(10)],
        "per_source": {s: round(float(hit[sources == s].mean()), 4)
                       for s in sorted(set(sources.tolist()))},
        "digits": int(len(labels)),
    }


def heldout_strokes(data: PenDigits, seed: int = HELD_OUT_SEED) -> list[list[np.ndarray]]:
    """The held-out digits as drawn on the canvas: a seeded size and place each, no jitter."""
    rng = np.random.default_rng([seed, 41])
    return [place_on_canvas(d, rng) for d in data.strokes]


def command_line(out: str | os.PathLike[str], cell: str, hidden: int, data: str | os.PathLike[str],
                 epochs: int, seed: int, batch: int = BATCH_SIZE, early: float = EARLY,
                 reverse: float = REVERSE_SHARE) -> str:
    extra = [] if batch == BATCH_SIZE else ["--batch", str(batch)]
    extra += [] if early == EARLY else ["--early", repr(float(early))]
    extra += [] if reverse == REVERSE_SHARE else ["--reverse-share", repr(float(reverse))]
    return shlex.join(["cnn-rnn-explorer", "train", "pen", "--cell", cell, "--hidden", str(hidden),
                       "--data", str(data), "--epochs", str(epochs), "--seed", str(seed), *extra,
                       "--out", str(out)])


def train_pen(out: str | os.PathLike[str], cell: str = "lstm", hidden: int = DEFAULT_HIDDEN,
              data: str | os.PathLike[str] = DEFAULT_PATH, epochs: int = DEFAULT_EPOCHS,
              seed: int = 0, progress: bool = True, callback: Callable[[Event], None] | None = None,
              cancel: threading.Event | None = None, *, spec: PenSpec | None = None,
              batch_size: int = BATCH_SIZE, style_share: float = STYLE_SHARE,
              early: float = EARLY, reverse_share: float = REVERSE_SHARE) -> dict[str, Any]:
    """Train a pen reader and save it atomically to ``out`` -> summary (JSON-able).

    The peak learning rate grows with the batch as sqrt(batch / BATCH_SIZE).
    ``reverse_share``: that share of the training digits has one random stroke drawn backwards
    (people differ in the direction they draw a loop or a bar)."""
    if cell not in CELLS:
        raise UserError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    if epochs < 1:
        raise UserError(f"epochs must be at least 1, got {epochs}")
    out = Path(out)
    if not out.parent.is_dir():
        raise FileNotFoundError(2, "the folder for --out does not exist", str(out.parent))
    spec = spec or PenSpec()
    digits = load_unipen(data)
    tr_idx, ho_idx = writer_split(digits)
    train, held = digits.subset(tr_idx), digits.subset(ho_idx)
    held_seqs = encode(heldout_strokes(held), spec)

    model = build_pen_model(cell, hidden, spec, seed)
    peak_lr = PEAK_LR * math.sqrt(batch_size / BATCH_SIZE)
    opt = Adam(model.parameters(), lr=peak_lr)
    rng = np.random.default_rng([seed, 1])
    n_style = int(round(style_share * len(train)))
    per_epoch = len(train) + n_style
    steps_per_epoch = math.ceil(per_epoch / batch_size)
    total = epochs * steps_per_epoch
    seqs: list[np.ndarray] = []
    labels = np.zeros(per_epoch, np.int64)

    def schedule() -> None:
        t = opt.t / total
        opt.lr = (peak_lr * max(t, 1.0 / total) / WARMUP if t < WARMUP else
                  FINAL_LR + 0.5 * (peak_lr - FINAL_LR) * (1 + math.cos(math.pi * t)))

    def batches(epoch: int):
        # a fresh drawing of every training digit (and of the synthetic styles) per epoch
        drawn = [augment_digit(place_on_canvas(d, rng), rng) for d in train.strokes]
        if reverse_share > 0:
            for i in np.flatnonzero(rng.random(len(drawn)) < reverse_share):
                k = int(rng.integers(len(drawn[i])))
                drawn[i][k] = drawn[i][k][::-1]
        which = rng.integers(0, len(STYLE_NAMES), n_style)
        drawn += [augment_digit(style_strokes(STYLE_NAMES[k], rng), rng) for k in which]
        seqs[:] = encode(drawn, spec)
        labels[:len(train)] = train.labels
        labels[len(train):] = [STYLES[STYLE_NAMES[k]][0] for k in which]
        yield from _by_length(seqs, batch_size, rng)

    def val_fn() -> dict[str, float]:
        probs = final_probabilities(model, held_seqs)
        return {"acc": float((probs.argmax(1) == held.labels).mean())}

    bar = ProgressBar(total, f"train pen ({cell}, H={hidden})", enabled=progress)

    def on_event(event: Event) -> None:
        if event.kind == "step":
            bar.update(loss=event.metrics["loss"], acc=event.metrics.get("acc", 0.0))
        elif event.kind == "val":
            bar.update(0, heldout_acc=event.metrics["acc"])
        if callback is not None:
            callback(event)

    start, cpu = time.perf_counter(), time.process_time()
    try:
        history = fit(_pen_step(model, opt, seqs, labels, schedule, early), batches, epochs, steps_per_epoch,
                      model=model, val_fn=val_fn, callback=on_event, cancel=cancel)
    finally:
        bar.close()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    report = heldout_report(final_probabilities(model, held_seqs), held.labels, held.sources)
    writers = sorted(set(held.writers.tolist()))
    summary: dict[str, Any] = {
        "out": str(out), "cell": cell, "hidden": hidden, "epochs": epochs, "seed": seed,
        "steps": len(history.steps), "n_params": model.n_params(),
        "train_digits": int(len(train)), "train_writers": len(set(train.writers.tolist())),
        "heldout_writers": len(writers), "heldout": report,
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
        "cancelled": history.cancelled,
    }
    summary["heldout_by_epoch"] = [round(v["acc"], 4) for v in history.val]
    if history.cancelled:
        summary["out"] = None
        return summary
    model.eval()
    model.meta = {
        "task": "digits", "input": "pen", "pen": spec.to_meta(), "arch": f"pen-{cell}",
        "classes": [str(d) for d in range(10)],
        "data": "UNIPEN train_r01_v07 category 1a (CC BY 4.0, doi:10.5281/zenodo.1195803)",
        "heldout": {**report, "writers": len(writers),
                    "split": "20 % of the writers of every source (explorer.data.unipen.writer_split, seed 0)"},
        "train_digits": summary["train_digits"], "style_share": style_share,
        "epochs": epochs, "seed": seed, "hidden": hidden,
        "train_seconds": summary["train_seconds"], "train_cpu_seconds": summary["train_cpu_seconds"],
        "command": command_line(out, cell, hidden, data, epochs, seed, batch_size, early,
                                reverse_share),
        "reverse_share": reverse_share,
        "batch_size": batch_size, "early_weight": early, "peak_lr": peak_lr,
        "reading": "softmax(logits[0, t]) is the reading after pen step t; the last is the answer",
    }
    save_model(model, out)
    summary["file_bytes"] = out.stat().st_size
    return summary


def train_pen_cli(args: Any) -> dict[str, Any]:
    """``cnn-rnn-explorer train pen`` -> summary (the CLI prints it as JSON)."""
    return train_pen(args.out, cell=args.cell, hidden=args.hidden, data=args.data,
                     epochs=args.epochs, seed=args.seed, progress=not args.quiet,
                     batch_size=getattr(args, "batch", BATCH_SIZE), early=getattr(args, "early", EARLY),
                     reverse_share=getattr(args, "reverse_share", REVERSE_SHARE))
