"""Fine-tune a digit model on the user's own examples without forgetting MNIST.

Recipe (``finetune``): start from a copy of the model; every step reads a batch of which
half are the user's examples, re-drawn — by a random writer through ``preprocess_strokes``
(``jitter_strokes``) when the strokes are kept, else by the image augmentation — and half
MNIST training images (augmented), so what the model knew stays rehearsed. Adam at a small
learning rate (``LR``, cosine-decayed), label smoothing as in training, a few epochs of
``STEPS_PER_EPOCH`` steps. After each epoch: accuracy on the 750 held-out MNIST images and
on the user's examples. With few examples (≤ ``CV_MAX``) the accuracy on *unseen* examples
of the user is estimated by k-fold cross-validation (each fold fine-tuned without it), then
the final model is fine-tuned on all of them.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from explorer.data.augment import AugmentConfig, StrokeJitter, augment_batch, jitter_strokes
from explorer.data.examples import ExampleSet, load_examples
from explorer.data.mnist import DigitData, load_digits
from explorer.data.preprocess import EmptyDrawing, preprocess_strokes
from explorer.engine import Adam, Model, load_model, save_model
from explorer.errors import ExplorerError
from explorer.training.digits import (
    CLASSES,
    INPUT_DOC,
    LABEL_SMOOTHING,
    digit_arch,
    model_input,
    predict_proba,
    split_digits,
)
from explorer.training.loop import Event, classifier_step, fit
from explorer.training.progress import ProgressBar

__all__ = ["FinetuneResult", "FinetuneError", "finetune", "finetune_cli", "cv_folds",
           "DEFAULT_EPOCHS", "STEPS_PER_EPOCH"]

DEFAULT_EPOCHS = 5
STEPS_PER_EPOCH = 25
BATCH = 64
MINE_SHARE = 0.5              # of each batch: the user's examples (the rest: MNIST)
LR, FINAL_LR = 5e-4, 5e-5
CV_MAX = 200                  # cross-validate when there are at most this many examples
CV_FOLDS = 3
# the user's own hand varies less than "any writer": milder than the training jitter
MINE_JITTER = StrokeJitter(rotation=8.0, shear=0.15, aspect=(0.9, 1.1), wobble=0.01,
                           noise=0.003, end=(-0.03, 0.04), p_lift=0.1, pen=(1.8, 3.2))
MINE_AUGMENT = AugmentConfig(rotation=8.0, scale=(0.9, 1.1), shear=0.15, translate=1.5,
                             elastic_alpha=16.0, p_elastic=0.5, p_thickness=0.3)


class FinetuneError(ExplorerError, ValueError):
    """Fine-tuning cannot start (no examples, not a digit model, ...)."""


@dataclass
class FinetuneResult:
    """Before/after figures (accuracies in [0, 1]) and the fine-tuned model."""

    model: Model
    before: dict[str, float]
    after: dict[str, float]
    n_examples: int
    steps: int
    seconds: float
    cv_folds: int = 0
    cancelled: bool = False
    history: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        r = lambda d: {k: round(float(v), 5) for k, v in d.items()}  # noqa: E731
        return {"n_examples": self.n_examples, "steps": self.steps, "cv_folds": self.cv_folds,
                "before": r(self.before), "after": r(self.after),
                "seconds": round(self.seconds, 1), "cancelled": self.cancelled}


def cv_folds(y: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """Stratified folds: -> k arrays of indices (each label dealt round-robin after a shuffle)."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), np.int64)
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        fold[idx] = (np.arange(len(idx)) + rng.integers(k)) % k
    return [np.flatnonzero(fold == f) for f in range(k)]


def _accuracy(model: Model, x: np.ndarray, y: np.ndarray, arch: str) -> float:
    if len(y) == 0:
        return float("nan")
    return float((predict_proba(model, x, arch).argmax(1) == y).mean())


def _copy(model: Model) -> Model:
    new = Model.from_arch(model.arch())
    new.load_state_dict(model.state_dict())
    new.meta = dict(model.meta)
    return new


def _render_mine(ex: ExampleSet, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The user's examples ``idx`` re-drawn: strokes by a random writer, images augmented."""
    x = augment_batch(ex.x[idx], rng, MINE_AUGMENT).astype(np.float32, copy=False)
    for j, i in enumerate(idx):
        lines = ex.strokes[i]
        if lines and rng.random() < 0.8:
            try:
                x[j] = preprocess_strokes(jitter_strokes(lines, rng, MINE_JITTER),
                                          pen_width=rng.uniform(*MINE_JITTER.pen))
            except EmptyDrawing:
                pass
    return x


def _tune(model: Model, arch: str, ex: ExampleSet, train_idx: np.ndarray, x_mn: np.ndarray,
          y_mn: np.ndarray, epochs: int, seed: int, callback: Callable[[Event], None] | None,
          cancel: threading.Event | None, val_fn: Callable[[], dict[str, float]] | None):
    """Fine-tune ``model`` in place on examples ``train_idx`` + MNIST -> loop History."""
    rng = np.random.default_rng([seed, 7])
    opt = Adam(model.parameters(), lr=LR)
    total = epochs * STEPS_PER_EPOCH
    n_mine = max(1, int(round(BATCH * MINE_SHARE)))

    def batches(_epoch: int):
        for _ in range(STEPS_PER_EPOCH):
            mine = rng.choice(train_idx, n_mine, replace=True)
            other = rng.integers(0, len(x_mn), BATCH - n_mine)
            yield (mine, other), np.concatenate([ex.y[mine], y_mn[other]])

    def transform(pair: Any) -> np.ndarray:       # (mine, other) index pair, see batches()
        t = opt.t / total
        opt.lr = FINAL_LR + 0.5 * (LR - FINAL_LR) * (1 + math.cos(math.pi * t))
        mine, other = pair
        x = np.concatenate([_render_mine(ex, mine, rng),
                            augment_batch(x_mn[other], rng).astype(np.float32, copy=False)])
        return model_input(x, arch)

    return fit(classifier_step(model, opt, transform=transform, smoothing=LABEL_SMOOTHING), batches, epochs, STEPS_PER_EPOCH,
               model=model, val_fn=val_fn, callback=callback, cancel=cancel)


def finetune(model: Model, examples: ExampleSet, epochs: int = DEFAULT_EPOCHS, seed: int = 0,
             data: DigitData | None = None, folds: int | None = None,
             callback: Callable[[Event], None] | None = None,
             cancel: threading.Event | None = None,
             phase: Callable[[str], None] | None = None) -> FinetuneResult:
    """Fine-tune a copy of ``model`` on ``examples`` mixed with MNIST -> FinetuneResult.

    ``folds``: k for the cross-validated accuracy on unseen examples (default ``CV_FOLDS``
    when there are at most ``CV_MAX`` examples and every digit present has ≥ 2; 0 = none).
    ``callback`` gets the final run's loop events; its ``val`` events carry ``acc`` (held-out
    MNIST) and ``mine`` (the user's examples), the first one at step 0 (the model before).
    ``phase(text)`` reports the stage; ``cancel.set()`` stops (``result.cancelled``).
    """
    try:
        arch = digit_arch(model)
    except ExplorerError as exc:
        raise FinetuneError(f"cannot fine-tune: the model {exc}") from None
    if len(examples) == 0:
        raise FinetuneError("cannot fine-tune: there are no examples")
    if epochs < 1:
        raise FinetuneError(f"epochs must be at least 1, got {epochs}")
    data = data if data is not None else load_digits(None)
    x_tr, y_tr, x_va, y_va = split_digits(data)
    start = time.perf_counter()
    counts = np.bincount(examples.y, minlength=10)
    if folds is None:
        folds = CV_FOLDS if len(examples) <= CV_MAX and counts[counts > 0].min() >= 2 else 0
    before = {"mnist": _accuracy(model, x_va, y_va, arch),
              "mine": _accuracy(model, examples.x, examples.y, arch)}
    after: dict[str, float] = {}
    if folds >= 2:
        hits = np.zeros(len(examples), bool)
        for f, held in enumerate(cv_folds(examples.y, folds, seed)):
            if phase is not None:
                phase(f"cross-validation: fold {f + 1} of {folds}")
            keep = np.setdiff1d(np.arange(len(examples)), held)
            if len(held) == 0 or len(keep) == 0:
                continue
            m = _copy(model)
            h = _tune(m, arch, examples, keep, x_tr, y_tr, epochs, seed + f + 1, None, cancel, None)
            if h.cancelled:
                break
            hits[held] = predict_proba(m, examples.x[held], arch).argmax(1) == examples.y[held]
        else:                                  # only a complete cross-validation is reported
            after["mine_cv"] = float(hits.mean())
    if phase is not None:
        phase("fine-tuning on all examples")
    tuned = _copy(model)
    history: list[dict[str, float]] = []

    def val_fn() -> dict[str, float]:
        mn = _accuracy(tuned, x_va, y_va, arch)
        mine = _accuracy(tuned, examples.x, examples.y, arch)
        history.append({"mnist": mn, "mine": mine})
        return {"acc": mn, "loss": 0.0, "mine": mine}

    if callback is not None:                   # the starting point of the curves: step 0
        callback(Event("val", -1, 0, epochs * STEPS_PER_EPOCH,
                       {"acc": before["mnist"], "loss": 0.0, "mine": before["mine"]}, 0.0))
    h = _tune(tuned, arch, examples, np.arange(len(examples)), x_tr, y_tr, epochs, seed, callback,
              cancel, val_fn)
    tuned.eval()
    after["mnist"] = _accuracy(tuned, x_va, y_va, arch)
    after["mine"] = _accuracy(tuned, examples.x, examples.y, arch)
    tuned.meta = {**{k: v for k, v in model.meta.items() if k != "command"},
                  "task": "digits", "arch": arch, "input": INPUT_DOC[arch],
                  "classes": list(CLASSES), "val_acc": round(after["mnist"], 5),
                  "finetuned_from": str(model.meta.get("command", model.meta.get("source", "?"))),
                  "finetune": {"n_examples": len(examples), "epochs": epochs, "seed": seed,
                               "before_mine": round(before["mine"], 5),
                               "after_mine": round(after["mine"], 5),
                               **({"after_mine_cv": round(after["mine_cv"], 5)}
                                  if "mine_cv" in after else {})}}
    return FinetuneResult(tuned, before, after, len(examples), len(h.steps),
                          time.perf_counter() - start, folds if folds >= 2 else 0,
                          h.cancelled, history)


def finetune_cli(args: Any, read_image: Callable[[Path], np.ndarray] | None = None) -> dict[str, Any]:
    """``train digits --finetune MODEL --examples DIR --out FILE [--epochs N]`` -> summary."""
    if args.examples is None:
        raise FinetuneError("--finetune needs --examples DIR (a folder with sub-folders 0 to 9)")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise FileNotFoundError(2, "the folder for --out does not exist", str(out.parent))
    epochs = DEFAULT_EPOCHS if args.epochs is None else int(args.epochs)
    model = load_model(args.finetune)
    examples = load_examples(args.examples, read_image)
    report_skipped(examples.skipped)
    quiet = bool(getattr(args, "quiet", False))
    bar = ProgressBar(epochs * STEPS_PER_EPOCH, "fine-tune digits", enabled=not quiet)

    def on_event(ev: Event) -> None:
        if ev.kind == "step":
            bar.update(loss=ev.metrics["loss"])
        elif ev.kind == "val":
            bar.update(0, mnist=ev.metrics["acc"], mine=ev.metrics["mine"])

    def phase(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr)

    try:
        result = finetune(model, examples, epochs, seed=getattr(args, "seed", 0) or 0,
                          data=load_digits(getattr(args, "mnist", None)), callback=on_event,
                          phase=phase)
    finally:
        bar.close()
    result.model.meta["command"] = _command(args, epochs)
    save_model(result.model, out)
    summary = {"out": str(out), "model": str(args.finetune), "examples": str(args.examples),
               **result.summary(), "n_skipped": len(examples.skipped),
               "skipped": [{"path": p, "why": why} for p, why in examples.skipped]}
    if not quiet:
        b, a = result.before, result.after
        cv = f"; unseen examples (cross-validated) {a['mine_cv']:.1%}" if "mine_cv" in a else ""
        print(f"your examples {b['mine']:.1%} -> {a['mine']:.1%}{cv}; held-out MNIST "
              f"{b['mnist']:.2%} -> {a['mnist']:.2%}; saved {out}", file=sys.stderr)
    return summary


def report_skipped(skipped: list[tuple[str, str]], shown: int = 10) -> None:
    """Say on stderr what in the examples folder was not used, and why (a warning, even --quiet)."""
    if not skipped:
        return
    print(f"cnn-rnn-explorer train: skipped {len(skipped)} input{'s' * (len(skipped) != 1)} "
          "in the examples folder:", file=sys.stderr)
    for path, why in skipped[:shown]:
        print(f"  {path}: {why}", file=sys.stderr)
    if len(skipped) > shown:
        print(f"  … and {len(skipped) - shown} more (all listed in the JSON summary)", file=sys.stderr)


def _command(args: Any, epochs: int) -> str:
    import shlex
    return shlex.join(["cnn-rnn-explorer", "train", "digits", "--finetune", str(args.finetune),
                       "--examples", str(args.examples), "--out", str(args.out),
                       "--epochs", str(epochs)])

