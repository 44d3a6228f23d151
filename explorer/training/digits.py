"""Train the digit models: a LeNet-style CNN and an LSTM that reads the digit row by row.

``train_digits(out)`` loads the best MNIST on this machine (``explorer.data.mnist``),
holds out a stratified validation split that training never sees (15 % of the
5,000-image subset; with full MNIST the official 10,000-image test set), trains with
random affine / elastic / thickness augmentation plus, for a share of every batch,
re-renderings of the training images as jittered pen strokes through the canvas
preprocessing (``StrokeAugment``: the app reads drawings, not scans), Adam with a
warm-up then cosine-decaying learning rate and label smoothing, prints a progress bar,
and saves the model atomically with its validation accuracy and the exact command in
``meta``. Same seed, same model.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from explorer.data.augment import AugmentConfig, StrokeAugment, augment_batch
from explorer.data.mnist import DigitData, load_digits, split_indices
from explorer.data.preprocess import EmptyDrawing, preprocess_strokes
from explorer.data.styles import STYLES, StyleSampler
from explorer.engine import (
    LSTM,
    Adam,
    Conv2d,
    Flatten,
    LastStep,
    Linear,
    MaxPool2d,
    Model,
    ReLU,
    log_softmax,
    save_model,
)
from explorer.errors import ExplorerError, UserError
from explorer.training.loop import Diverged, Event, classifier_step, evaluate_classifier, fit
from explorer.training.progress import ProgressBar

__all__ = ["ARCHS", "CLASSES", "Diverged", "NotADigitModel", "build_model", "default_epochs",
           "digit_arch", "model_input", "predict_proba", "split_digits", "train_digits",
           "train_digits_cli"]

ARCHS = ("cnn", "rowrnn")
CLASSES = [str(d) for d in range(10)]
INPUT_DOC = {"cnn": "1x28x28 MNIST-style, ink 1.0 on 0.0",
             "rowrnn": "28 rows x 28 pixels (N, 28, 28), MNIST-style, ink 1.0 on 0.0"}
VAL_FRACTION = 0.15          # of the training images, when the data has no test split
SPLIT_SEED = 0               # fixed: every model is validated on the same held-out images
BATCH_SIZE = 64
PEAK_LR, FINAL_LR, WARMUP = 3e-3, 3e-5, 0.03   # warm-up fraction of all steps
LABEL_SMOOTHING = 0.1
ROW_HIDDEN = 64
# rotation +-15 deg, scale 0.85-1.15, shear 0.3, shift 2 px, elastic (50 %), thickness (30 %)
AUGMENT = AugmentConfig()
# share of every batch re-rendered from jittered skeleton strokes (measured on the stroke-replay
# proxy: 0.35 vs 0.5 made no clear difference for the CNN, 0.5 helped the row-RNN)
STROKE_SHARE = {"cnn": 0.35, "rowrnn": 0.5}
STROKE_POOL = 6000           # at most this many training images are traced (full MNIST: a subset)
# share of every batch replaced by synthetic writing styles MNIST lacks (explorer.data.styles:
# flagged 1s with and without a base, crossed and curved 7s, open 4s, straight-tailed 9s)
STYLE_SHARE = {"cnn": 0.08, "rowrnn": 0.05}   # 8 % cost the row-RNN 0.9 pt on MNIST
# share of every batch replaced by real pen digits (UNIPEN training writers, --pen-data),
# placed on the canvas, re-drawn by a random writer and rendered by preprocess_strokes
PEN_SHARE = 0.3
PEN_WIDTHS = (1.8, 3.2)      # pen width in output px of those renderings
INIT_LR = 1e-3               # peak learning rate when starting from a trained model (--init)


def build_model(arch: str = "cnn", seed: int = 0) -> Model:
    """A fresh, seeded model: ``cnn`` takes (N, 1, 28, 28), ``rowrnn`` takes (N, 28, 28)."""
    rng = np.random.default_rng(seed)
    if arch == "cnn":
        layers = [Conv2d(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                  Conv2d(8, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                  Linear(16 * 7 * 7, 64, rng=rng), ReLU(), Linear(64, 10, rng=rng)]
    elif arch == "rowrnn":
        layers = [LSTM(28, ROW_HIDDEN, rng=rng), LastStep(), Linear(ROW_HIDDEN, 10, rng=rng)]
    else:
        raise UserError(f"unknown digit architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    return Model(layers)


def default_epochs(arch: str, full_mnist: bool) -> int:
    """Epochs that reach the accuracy targets within the 5-minute budget on 2 cores."""
    if full_mnist:                       # 60,000 images: ~4,700 steps (cnn), ~3,750 (rowrnn)
        return 5 if arch == "cnn" else 4
    return 80 if arch == "cnn" else 40   # 4,250 images: 5,360 steps (cnn), 2,680 (rowrnn)


def model_input(x: np.ndarray, arch: str) -> np.ndarray:
    """x: (N, 1, 28, 28) float32 -> what ``arch`` reads: x (cnn) or (N, 28, 28) rows (rowrnn)."""
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"digit images must have shape (N, 1, 28, 28), got {tuple(x.shape)}")
    return x[:, 0] if arch == "rowrnn" else x


class NotADigitModel(ExplorerError, ValueError):
    """A model file that does not map a 28x28 digit to 10 class scores."""


def digit_arch(model: Model) -> str:
    """-> "cnn" if ``model`` reads (N, 1, 28, 28), "rowrnn" if it reads (N, 28, 28) rows.

    Checked by running a blank digit through it: the output must be (1, 10).
    Raises NotADigitModel otherwise (e.g. a text model).
    """
    task = model.meta.get("task")
    if task not in (None, "digits"):
        raise NotADigitModel(f"is not a digit model (its task is {task!r})")
    first = model.layers[0] if model.layers else None
    arch = "rowrnn" if getattr(first, "recurrent", False) else "cnn"
    blank = np.zeros((1, 1, 28, 28), np.float32)
    try:
        out = model.predict(model_input(blank, arch))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise NotADigitModel(f"is not a digit model (a 28x28 image does not fit it: {exc})"
                             ) from None
    if out.shape != (1, 10):
        raise NotADigitModel(f"is not a digit model (it gives {out.shape[1:]} outputs, not 10)")
    return arch


def predict_proba(model: Model, x: np.ndarray, arch: str | None = None) -> np.ndarray:
    """x: (N, 1, 28, 28) float32 -> (N, 10) float64 class probabilities."""
    logits = model.predict(model_input(x, arch or digit_arch(model)))
    return np.exp(log_softmax(logits.astype(np.float64)))


def split_digits(data: DigitData) -> tuple[np.ndarray, ...]:
    """-> x_train, y_train, x_val, y_val as (N, 1, 28, 28) float32 in [0, 1] and int64.

    The validation images are the official test set if there is one, else a stratified
    ``VAL_FRACTION`` split drawn with ``SPLIT_SEED``: the same held-out images for every
    model and every training seed, so accuracies can be compared.
    """
    def scale(x: np.ndarray) -> np.ndarray:
        return (x.astype(np.float32) / 255.0)[:, None]

    if data.x_test is not None and data.y_test is not None and data.n_test > 0:
        return scale(data.x_train), data.y_train, scale(data.x_test), data.y_test
    tr, va = split_indices(data.y_train, VAL_FRACTION, SPLIT_SEED)
    x = scale(data.x_train)
    return x[tr], data.y_train[tr], x[va], data.y_train[va]


def _stroke_pool(x_tr: np.ndarray, seed: int, share: float, progress: bool,
                 style_share: float = 0.0) -> tuple[np.ndarray, StrokeAugment | None, float]:
    """-> (pool position per training image or -1, traced strokes or None, per-image share).

    At most ``STROKE_POOL`` training images (a seeded choice when there are more) are traced;
    the per-image probability is raised so that ``share`` of a batch is still re-rendered
    (the style rows, ``style_share`` of a batch, are not re-rendered: the MNIST rows get more).
    """
    pool_pos = np.full(len(x_tr), -1, np.int64)
    if share <= 0:
        return pool_pos, None, 0.0
    pool = np.arange(len(x_tr))
    if len(pool) > STROKE_POOL:
        pool = np.sort(np.random.default_rng([seed, 2]).choice(len(x_tr), STROKE_POOL, False))
    if progress:
        print(f"tracing the pen strokes of {len(pool):,} training images ...", file=sys.stderr)
    pool_pos[pool] = np.arange(len(pool))
    per_image = share / max(1.0 - style_share, 1e-6) * len(x_tr) / len(pool)
    return pool_pos, StrokeAugment(x_tr[pool]), min(1.0, per_image)


def command_line(out: str | os.PathLike, mnist: str | None, epochs: int | None, seed: int,
                 arch: str, pen_data: str | os.PathLike | None = None,
                 init: str | os.PathLike | None = None) -> str:
    """The ``cnn-rnn-explorer train digits ...`` line that reproduces a run."""
    parts = ["cnn-rnn-explorer", "train", "digits", "--out", str(out)]
    if mnist is not None:
        parts += ["--mnist", str(mnist)]
    if epochs is not None:
        parts += ["--epochs", str(epochs)]
    parts += ["--seed", str(seed), "--arch", arch]
    if pen_data is not None:
        parts += ["--pen-data", str(pen_data)]
    if init is not None:
        parts += ["--init", str(init)]
    return shlex.join(parts)


class _PenDigits:
    """Real pen digits of the training writers (``explorer.data.unipen``) for the CNN: each
    draw places a digit on the canvas, re-draws it by a random writer and renders it through
    ``preprocess_strokes`` (the canvas pipeline) with a random pen width. The held-out
    writers are kept aside, as drawn once on the canvas (``held_x``, ``held_y``)."""

    def __init__(self, path: str | os.PathLike) -> None:
        from explorer.data.unipen import load_unipen, writer_split
        from explorer.training.pen import heldout_strokes

        digits = load_unipen(path)
        tr, ho = writer_split(digits)
        self.train, self.held = digits.subset(tr), digits.subset(ho)
        self.held_x = np.stack([preprocess_strokes(s) for s in heldout_strokes(self.held)])

    def __len__(self) -> int:
        return len(self.train)

    def render(self, which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from explorer.data.unipen import augment_digit, place_on_canvas

        x = np.zeros((len(which), 1, 28, 28), np.float32)
        for j, i in enumerate(which):
            lines = augment_digit(place_on_canvas(self.train.strokes[int(i)], rng), rng)
            try:
                x[j] = preprocess_strokes(lines, pen_width=rng.uniform(*PEN_WIDTHS))
            except EmptyDrawing:
                pass
        return x


def train_digits(out: str | os.PathLike, mnist: str | None = None, epochs: int | None = None,
                 seed: int = 0, arch: str = "cnn", progress: bool = True,
                 callback: Callable[[Event], None] | None = None,
                 cancel: threading.Event | None = None, *, data: DigitData | None = None,
                 batch_size: int = BATCH_SIZE, command: str | None = None,
                 stroke_share: float | None = None,
                 style_share: float | None = None,
                 pen_data: str | os.PathLike | None = None,
                 pen_share: float = PEN_SHARE,
                 init: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train a digit model and save it to ``out`` -> summary dict (JSON-serialisable).

    ``data`` overrides the search for MNIST (tests pass a small slice). ``callback``
    receives the loop's step/val/done events; ``cancel.set()`` stops early and then
    nothing is written (``summary["cancelled"]`` is True). ``stroke_share`` of each batch
    (default ``STROKE_SHARE[arch]``; 0 turns it off) is replaced by stroke re-renderings
    of the same images; ``style_share`` (default ``STYLE_SHARE[arch]``) by synthetic writing
    styles (``explorer.data.styles``), labels included; with ``pen_data`` (a UNIPEN npz),
    ``pen_share`` of each batch by real pen digits of the training writers. ``init``: start
    from that model's weights (same architecture) at a lower peak learning rate.
    Raises ``Diverged`` if the loss turns NaN/inf, ``DataSourceError``
    if no MNIST is found.
    """
    if arch not in ARCHS:
        raise UserError(f"unknown digit architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise FileNotFoundError(2, "the folder for --out does not exist", str(out.parent))
    data = data if data is not None else load_digits(mnist)
    full = data.n_test > 0
    epochs = default_epochs(arch, full) if epochs is None else int(epochs)
    if epochs < 1:
        raise UserError(f"epochs must be at least 1, got {epochs}")
    x_tr, y_tr, x_va, y_va = split_digits(data)
    stroke_share = STROKE_SHARE[arch] if stroke_share is None else float(stroke_share)
    style_share = STYLE_SHARE[arch] if style_share is None else float(style_share)
    styles = StyleSampler()
    pens = _PenDigits(pen_data) if pen_data is not None else None
    pen_share = pen_share if pens is not None else 0.0
    model = build_model(arch, seed)
    peak_lr = PEAK_LR
    if init is not None:
        from explorer.engine import load_model
        start_from = load_model(init)
        if start_from.arch()["layers"] != model.arch()["layers"]:
            raise UserError(f"{init}: --init needs a model of the same architecture ({arch})")
        model.load_state_dict(start_from.state_dict())
        peak_lr = INIT_LR
    opt = Adam(model.parameters(), lr=peak_lr)
    rng = np.random.default_rng([seed, 1])
    steps_per_epoch = max(1, math.ceil(len(x_tr) / batch_size))
    total = epochs * steps_per_epoch

    prep_start = time.perf_counter()
    pool_pos, strokes, share = _stroke_pool(x_tr, seed, stroke_share, progress, style_share)
    prep_seconds = time.perf_counter() - prep_start

    def batches(epoch: int):
        order = rng.permutation(len(x_tr))
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            y = y_tr[idx]
            if style_share > 0:                        # style rows: index -1 - style number
                rows = np.flatnonzero(rng.random(len(idx)) < style_share)
                which = rng.integers(0, len(styles.names), len(rows))
                idx, y = idx.copy(), y.copy()
                idx[rows] = -1 - which
                y[rows] = [STYLES[styles.names[k]][0] for k in which]
            if pens is not None:                       # pen rows: index len(x_tr) + pen number
                rows = np.flatnonzero((rng.random(len(idx)) < pen_share) & (idx >= 0))
                which = rng.integers(0, len(pens), len(rows))
                idx, y = idx.copy(), y.copy()
                idx[rows] = len(x_tr) + which
                y[rows] = pens.train.labels[which]
            yield idx, y

    def transform(idx: np.ndarray) -> np.ndarray:
        t = opt.t / total                              # cosine decay after a linear warm-up
        opt.lr = (peak_lr * max(t, 1.0 / total) / WARMUP if t < WARMUP else
                  FINAL_LR + 0.5 * (peak_lr - FINAL_LR) * (1 + math.cos(math.pi * t)))
        style_rows = np.flatnonzero(idx < 0)
        pen_rows = np.flatnonzero(idx >= len(x_tr))
        idx_style, idx = idx, np.where((idx < 0) | (idx >= len(x_tr)), 0, idx)
        x = augment_batch(x_tr[idx], rng, AUGMENT).astype(np.float32, copy=False)
        if len(style_rows):
            x[style_rows] = styles.render(-1 - idx_style[style_rows], rng)[0]
        if strokes is not None:
            pick = (rng.random(len(idx)) < share) & (pool_pos[idx] >= 0)
            pick[style_rows] = False
            pick[pen_rows] = False
            if pick.any():
                drawn, ok = strokes.render(pool_pos[idx[pick]], rng)
                rows = np.flatnonzero(pick)[ok]
                x[rows] = drawn[ok]
        if pens is not None and len(pen_rows):
            x[pen_rows] = pens.render(idx_style[pen_rows] - len(x_tr), rng)
        return model_input(x, arch)

    def val_fn() -> dict[str, float]:
        return evaluate_classifier(model, model_input(x_va, arch), y_va)

    bar = ProgressBar(total, f"train digits ({arch})", enabled=progress)

    def on_event(event: Event) -> None:
        if event.kind == "step":
            bar.update(loss=event.metrics["loss"], acc=event.metrics.get("acc", 0.0))
        elif event.kind == "val":
            bar.update(0, val_acc=event.metrics["acc"])
        if callback is not None:
            callback(event)

    start = time.perf_counter()
    try:
        history = fit(classifier_step(model, opt, transform=transform, smoothing=LABEL_SMOOTHING), batches, epochs, steps_per_epoch,
                      model=model, val_fn=val_fn, callback=on_event, cancel=cancel)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    val = history.last_val() or val_fn()
    model.eval()
    summary: dict[str, Any] = {
        "out": str(out), "arch": arch, "data": data.source, "n_train": int(len(x_tr)),
        "n_val": int(len(x_va)),
        "validation": ("official MNIST test set" if full else
                       f"stratified {VAL_FRACTION:.0%} held out of the training images"),
        "val_acc": round(float(val["acc"]), 5), "val_loss": round(float(val["loss"]), 5),
        "epochs": epochs, "steps": len(history.steps), "seed": seed,
        "n_params": model.n_params(), "train_seconds": round(seconds, 1),
        "stroke_seconds": round(prep_seconds, 1), "stroke_share": float(stroke_share),
        "style_share": float(style_share),
        "cancelled": history.cancelled,
    }
    pen_report = None
    if pens is not None:
        from explorer.training.pen import heldout_report
        pen_report = heldout_report(predict_proba(model, pens.held_x, arch), pens.held.labels,
                                    pens.held.sources)
        pen_report["writers"] = len(set(pens.held.writers.tolist()))
        summary["pen_heldout"] = pen_report
        summary["pen_share"] = pen_share
    if history.cancelled:
        summary["out"] = None
        return summary
    model.meta = {
        "task": "digits", "arch": arch, "data": data.source, "n_train": summary["n_train"],
        "n_val": summary["n_val"], "val_acc": summary["val_acc"], "seed": seed, "epochs": epochs,
        "command": command or command_line(out, mnist, epochs, seed, arch, pen_data, init),
        "input": INPUT_DOC[arch], "classes": list(CLASSES),
        "stroke_share": float(stroke_share), "style_share": float(style_share),
    }
    if init is not None:
        model.meta["init"] = f"{Path(init).name}: {start_from.meta.get('command', '')}"
    if pen_report is not None:
        model.meta.update({
            "pen_share": pen_share, "pen_heldout": pen_report,
            "pen_data": "UNIPEN train_r01_v07 category 1a, training writers (CC BY 4.0, "
                        "doi:10.5281/zenodo.1195803)"})
    save_model(model, out)
    summary["file_bytes"] = out.stat().st_size
    return summary


def train_digits_cli(args: Any) -> dict[str, Any]:
    """``cnn-rnn-explorer train digits`` -> summary (the CLI prints it as JSON)."""
    if args.epochs is not None and args.epochs < 1:     # the CLI's parser checks this first
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    pen_data, init = getattr(args, "pen_data", None), getattr(args, "init", None)
    command = command_line(args.out, args.mnist, args.epochs, args.seed, args.arch, pen_data, init)
    # a diverging run raises Diverged, an ExplorerError: the CLI prints it as one line, exit 2
    summary = train_digits(args.out, mnist=args.mnist, epochs=args.epochs, seed=args.seed,
                           arch=args.arch, progress=not args.quiet, command=command,
                           pen_data=pen_data, init=init)
    if not args.quiet:
        print(f"validation accuracy {summary['val_acc']:.2%} on {summary['n_val']:,} held-out "
              f"images ({summary['data']}); saved {summary['out']}", file=sys.stderr)
    return summary
