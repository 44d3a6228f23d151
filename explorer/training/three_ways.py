"""Digits three ways: the CNN on the picture, the row-RNN on its rows, the pen RNNs on the pen.

``three_ways(data)`` reads the held-out writers of a UNIPEN file (``explorer.data.unipen``:
the writers no shipped model trained on), draws each digit once on the 280 canvas (seeded
size and place, ``training.pen.heldout_strokes``) and lets every model read it its own way:

- *picture* (CNN) and *rows* (row-RNN): the strokes rendered by the canvas pipeline
  (``preprocess_strokes``, the Digit Lab's network input);
- *pen* (LSTM, GRU): the strokes in writing order through the causal pen encoding; the
  answer is the reading after the last pen event.

Robustness, each the accuracy after one change to every drawing (seeded):
``reversed`` (stroke order and every stroke's direction reversed), ``permuted`` (the
strokes of a multi-stroke digit in another order), ``stroke_left_out`` (one stroke of a
multi-stroke digit removed; scored against the true label), ``shift`` (moved by up to 60
units), ``scale`` (x0.6 or x1.5 about its centre), ``rotate`` (+-20 degrees),
``thicker`` (the picture rendered with a pen 1.75x as wide; the pen models cannot see
width, so theirs is their plain accuracy). ``permuted`` and ``stroke_left_out`` are over
the multi-stroke digits only (each model's ``multi_stroke_accuracy`` is their baseline:
the same digits unchanged). ``ms_per_reading``: median wall time of one reading of one
finished digit, input preparation included, on this machine.

The output is ``resources/compare/digits_three_ways.json`` (``FORMAT``), which the Compare
lab shows; ``subset_check`` holds the accuracies on the first ``SUBSET`` held-out digits so
a test can recompute them.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from explorer.data.pen import PenSpec, pen_features
from explorer.data.preprocess import MNIST_PEN_WIDTH, EmptyDrawing, preprocess_strokes
from explorer.data.unipen import DEFAULT_PATH, load_unipen, writer_split
from explorer.engine import Model, load_model
from explorer.paths import model_path
from explorer.training.digits import predict_proba
from explorer.training.pen import final_probabilities, heldout_strokes

__all__ = ["FORMAT", "MODELS", "ROBUSTNESS", "SUBSET", "command_line", "format_table", "perturb", "read_all",
           "three_ways"]

FORMAT = "cnn-rnn-explorer/digits-three-ways"
VERSION = 1
MODELS = (("CNN", "picture", "digits_cnn.npz"), ("row-RNN", "rows", "digits_rowrnn.npz"),
          ("pen LSTM", "pen", "digits_pen_lstm.npz"), ("pen GRU", "pen", "digits_pen_gru.npz"))
ROBUSTNESS = ("reversed", "permuted", "stroke_left_out", "shift", "scale", "rotate", "thicker")
SUBSET = 200
THICKER = 1.75
SEED = 0

Lines = list[np.ndarray]


def perturb(strokes: Lines, kind: str, rng: np.random.Generator) -> Lines:
    """One drawing (reference units) changed by ``kind`` (see the module docstring)."""
    s = [np.asarray(p, np.float64) for p in strokes]
    if kind in ("none", "thicker"):
        return s
    if kind == "reversed":
        return [p[::-1] for p in s[::-1]]
    if kind == "permuted":
        if len(s) < 2:
            return s
        order = np.arange(len(s))
        while np.array_equal(order, np.arange(len(s))):
            order = rng.permutation(len(s))
        return [s[i] for i in order]
    if kind == "stroke_left_out":
        if len(s) < 2:
            return s
        k = int(rng.integers(len(s)))
        return s[:k] + s[k + 1:]
    pts = np.concatenate(s)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
    if kind == "shift":
        d = rng.uniform(-60.0, 60.0, 2)
        return [p + d for p in s]
    if kind == "scale":
        f = 0.6 if rng.random() < 0.5 else 1.5
        return [(p - centre) * f + centre for p in s]
    if kind == "rotate":
        a = np.radians(rng.uniform(10.0, 20.0) * rng.choice([-1.0, 1.0]))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        return [(p - centre) @ rot.T + centre for p in s]
    raise ValueError(f"unknown change {kind!r}")


def _pictures(drawings: list[Lines], pen_width: float) -> np.ndarray:
    out = np.zeros((len(drawings), 1, 28, 28), np.float32)
    for i, d in enumerate(drawings):
        try:
            out[i] = preprocess_strokes([p.astype(np.float32) for p in d], pen_width=pen_width)
        except EmptyDrawing:
            pass
    return out


def read_all(model: Model, reads: str, drawings: list[Lines], pen_width: float = MNIST_PEN_WIDTH
             ) -> np.ndarray:
    """Every drawing read by ``model`` its own way -> (N, 10) probabilities."""
    if reads == "pen":
        spec = PenSpec.from_meta(model.meta["pen"])
        return final_probabilities(model, [pen_features([p.astype(np.float32) for p in d], spec)
                                           for d in drawings])
    return predict_proba(model, _pictures(drawings, pen_width), "cnn" if reads == "picture" else "rowrnn")


def _ms_per_reading(model: Model, reads: str, drawings: list[Lines], n: int = 40) -> float:
    times = []
    for d in drawings[:n]:
        t = time.perf_counter()
        read_all(model, reads, [d])
        times.append(time.perf_counter() - t)
    return round(1000.0 * float(np.median(times)), 3)


def command_line(data: str | os.PathLike[str], out: str | os.PathLike[str]) -> str:
    return shlex.join(["cnn-rnn-explorer", "compare", "--task", "digits-three-ways",
                       "--data", str(data), "--out", str(out)])


def three_ways(data: str | os.PathLike[str] = DEFAULT_PATH, out: str | os.PathLike[str] | None = None,
               models: dict[str, str | os.PathLike[str]] | None = None, limit: int | None = None,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """-> the three-ways result (``FORMAT``). ``models`` maps a name of ``MODELS`` to another
    file; ``limit`` reads only the first held-out digits (tests)."""
    say = progress or (lambda _s: None)
    digits = load_unipen(data)
    _, ho = writer_split(digits)
    held = digits.subset(ho)
    drawings = heldout_strokes(held)
    labels = held.labels
    if limit is not None:
        drawings, labels = drawings[:limit], labels[:limit]
    multi = np.array([len(d) > 1 for d in drawings])
    changed = {kind: [perturb(d, kind, np.random.default_rng([SEED, i, k]))
                      for i, d in enumerate(drawings)]
               for k, kind in enumerate(ROBUSTNESS)}
    rows: list[dict[str, Any]] = []
    subset: dict[str, float] = {}
    for name, reads, filename in MODELS:
        override = (models or {}).get(name)
        path = Path(override) if override is not None else model_path(filename)
        model = load_model(path)
        say(f"{name}: reading {len(drawings):,} held-out digits ...")
        probs = read_all(model, reads, drawings)
        hit = probs.argmax(1) == labels
        robust: dict[str, float] = {}
        for kind in ROBUSTNESS:
            if kind == "thicker" and reads == "pen":
                robust[kind] = round(float(hit.mean()), 5)     # blind to width by construction
                continue
            width = MNIST_PEN_WIDTH * (THICKER if kind == "thicker" else 1.0)
            p = read_all(model, reads, changed[kind], width)
            h = p.argmax(1) == labels
            robust[kind] = round(float(h[multi].mean() if kind in ("permuted", "stroke_left_out")
                                       else h.mean()), 5)
        rows.append({
            "name": name, "reads": reads, "file": str(override) if override is not None else f"resources/models/{filename}",
            "params": int(model.n_params()), "accuracy": round(float(hit.mean()), 5),
            "per_digit": [round(float(hit[labels == d].mean()), 4) if (labels == d).any() else 0.0
                          for d in range(10)],
            "ms_per_reading": _ms_per_reading(model, reads, drawings),
            "robustness": robust,
            # the baseline of "permuted" and "stroke_left_out": the same multi-stroke digits unchanged
            "multi_stroke_accuracy": round(float(hit[multi].mean()), 5),
        })
        subset[name] = round(float(hit[:SUBSET].mean()), 5)
    sources = sorted(set(held.sources.tolist()))
    return {
        "format": FORMAT, "version": VERSION,
        "heldout": {
            "description": ("UNIPEN train_r01_v07 digits (CC BY 4.0) by writers no shipped model "
                            "trained on: 20 % of the writers of every source, whole writers "
                            "(seed 0), each digit drawn once on the 280 canvas at a seeded size "
                            "and place; permuted / stroke left out: multi-stroke digits only "
                            f"({int(multi.sum())} of {len(drawings)})"),
            "writers": len(set(held.writers.tolist())), "digits": len(drawings),
            "sources": sources},
        "models": rows,
        "subset_check": {"first": min(SUBSET, len(drawings)), "accuracy": subset},
        "command": command_line(data, out if out is not None else
                                "resources/compare/digits_three_ways.json"),
    }


def format_table(result: dict[str, Any]) -> str:
    """The result as a text table: one row per model."""
    head = (f"{'model':<9} {'reads':<8} {'params':>7} {'acc':>7} {'ms':>6}  "
            + " ".join(f"{k[:8]:>8}" for k in ROBUSTNESS))
    lines = [f"held out: {result['heldout']['digits']:,} digits by {result['heldout']['writers']} "
             f"writers ({', '.join(result['heldout']['sources'])})", head]
    for m in result["models"]:
        lines.append(f"{m['name']:<9} {m['reads']:<8} {m['params']:>7,} {m['accuracy']:>7.2%} "
                     f"{m['ms_per_reading']:>6.2f}  "
                     + " ".join(f"{m['robustness'][k]:>8.1%}" for k in ROBUSTNESS))
    return "\n".join(lines)
