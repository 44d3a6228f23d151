"""One training loop for the command line and the GUI's worker thread.

``fit`` drives any ``step_fn(batch) -> metrics`` over epochs of batches, with progress
callbacks, a cancel flag, a pause flag, validation at the end of each epoch and the one
``DivergenceGuard`` (used by the command line, the Train tab's worker and the tests) that
stops a diverging run and puts back the last good weights. ``classifier_step`` is the one
step for a model whose output is class logits (plain or label-smoothed cross-entropy);
the one truncated-BPTT step for text models is ``text_models.tbptt_step``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.engine import Model, clip_grad_norm, cross_entropy, log_softmax
from explorer.errors import ExplorerError

Batch = Any
Metrics = dict[str, float]


DIVERGE_FACTOR = 25.0   # a loss this many times its first value (at least 1 nat) counts as diverged


class Diverged(ExplorerError, RuntimeError):
    """The loss became NaN or infinite, or exploded; the model holds its last good weights again."""


class DivergenceGuard:
    """The one rule for a diverging run: the loss is NaN or infinite, or above ``factor``
    times the first loss (floored at 1 nat; ``factor=None``: only NaN/inf). The first
    failure is kept in ``reason``; ``error(step)`` is the one message."""

    def __init__(self, factor: float | None = DIVERGE_FACTOR) -> None:
        self.factor = factor
        self.first: float | None = None
        self.reason: str | None = None

    def check(self, loss: float) -> bool:
        """True while the run is sane."""
        if self.reason is None:
            if not math.isfinite(loss):
                self.reason = f"the loss became {loss}"
            elif self.first is None:
                self.first = max(loss, 1.0)
            elif self.factor is not None and loss > self.factor * self.first:
                self.reason = f"the loss exploded to {loss:.4g} nats ({self.factor:g}× its starting value)"
        return self.reason is None

    def error(self, step: int) -> Diverged:
        return Diverged(f"training diverged at step {step}: {self.reason}; the last good weights were kept")


@dataclass
class Event:
    """What a callback receives after every step (and with ``kind="val"`` after validation)."""

    kind: str  # "step" | "val" | "done"
    epoch: int
    step: int
    total_steps: int
    metrics: Metrics
    elapsed: float


@dataclass
class History:
    steps: list[int] = field(default_factory=list)
    train: list[Metrics] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val: list[Metrics] = field(default_factory=list)
    cancelled: bool = False

    def last_val(self) -> Metrics:
        return self.val[-1] if self.val else {}


def smoothed_cross_entropy(logits: np.ndarray, y: np.ndarray, smoothing: float
                           ) -> tuple[float, np.ndarray]:
    """Cross-entropy against the target (1 - e) one-hot + e / K, for (N, K) logits -> (loss, dlogits)."""
    logp = log_softmax(logits.astype(np.float64))
    k = logp.shape[-1]
    target = np.full(logp.shape, smoothing / k)
    target[np.arange(len(y)), y] += 1.0 - smoothing
    loss = float(-(target * logp).sum(axis=-1).mean())
    return loss, ((np.exp(logp) - target) / len(y)).astype(logits.dtype)


def classifier_step(model: Model, optimizer: Any, clip: float | None = None,
                    transform: Callable[[np.ndarray], np.ndarray] | None = None,
                    smoothing: float = 0.0) -> Callable[[Batch], Metrics]:
    """The one step for ``(x, y)`` or ``(x, y, mask)`` batches; logits on the last axis.

    y: (N,) or (N, T) int targets; mask (same shape, bool) selects scored positions.
    ``smoothing`` > 0: label-smoothed cross-entropy (``(x, y)`` batches only). A non-finite
    loss leaves the weights untouched (the guard in ``fit`` then stops the run).
    """

    def step(batch: Batch) -> Metrics:
        x, y = batch[0], batch[1]
        mask = batch[2] if len(batch) > 2 else None
        if transform is not None:
            x = transform(x)
        model.train()
        model.zero_grad()
        logits = model.forward(x)
        if smoothing:
            loss, dlogits = smoothed_cross_entropy(logits, y, smoothing)
        else:
            loss, dlogits = cross_entropy(logits, y, mask)
        if not np.isfinite(loss):
            return {"loss": float(loss)}
        model.backward(dlogits, input_grad=False)
        grads = model.gradients()
        if clip is not None:
            clip_grad_norm(grads, clip)
        optimizer.step(grads)
        hit = logits.argmax(-1) == y
        acc = float(hit[mask].mean()) if mask is not None else float(hit.mean())
        return {"loss": float(loss), "acc": acc}

    return step


def evaluate_classifier(model: Model, x: np.ndarray, y: np.ndarray,
                        mask: np.ndarray | None = None, batch_size: int = 512) -> Metrics:
    """Mean cross-entropy and accuracy of ``model`` on a labelled set, in eval mode."""
    model.eval()
    losses, hits, counts = 0.0, 0, 0
    for i in range(0, len(x), batch_size):
        logits = model.predict(x[i:i + batch_size])
        yb = y[i:i + batch_size]
        mb = None if mask is None else mask[i:i + batch_size]
        loss, _ = cross_entropy(logits, yb, mb)
        n = int(mb.sum()) if mb is not None else int(np.prod(yb.shape))
        hit = logits.argmax(-1) == yb
        hits += int(hit[mb].sum()) if mb is not None else int(hit.sum())
        losses += float(loss) * n
        counts += n
    model.train()
    return {"loss": losses / max(counts, 1), "acc": hits / max(counts, 1)}


def fit(step_fn: Callable[[Batch], Metrics], batches: Callable[[int], Iterable[Batch]],
        epochs: int, steps_per_epoch: int, *, model: Model | None = None,
        val_fn: Callable[[], Metrics] | None = None,
        callback: Callable[[Event], None] | None = None,
        cancel: threading.Event | None = None, pause: threading.Event | None = None,
        on_epoch_end: Callable[[int], None] | None = None,
        guard: DivergenceGuard | None = None) -> History:
    """Run ``epochs`` × ``steps_per_epoch`` steps; ``batches(epoch)`` yields the batches.

    ``cancel.set()`` stops after the current step; while ``pause`` is set the loop waits.
    A step the ``guard`` (default: ``DivergenceGuard()``) fails raises ``Diverged``; with
    ``model`` given, the weights from before that step are put back first.
    """
    guard = guard if guard is not None else DivergenceGuard()
    history = History()
    total = epochs * steps_per_epoch
    start = time.perf_counter()
    step = 0
    for epoch in range(epochs):
        for in_epoch, batch in enumerate(batches(epoch)):
            if in_epoch >= steps_per_epoch:
                break
            while pause is not None and pause.is_set() and not (cancel and cancel.is_set()):
                time.sleep(0.02)
            if cancel is not None and cancel.is_set():
                history.cancelled = True
                return history
            good = model.state_dict() if model is not None else None
            metrics = step_fn(batch)
            step += 1
            if not guard.check(float(metrics.get("loss", 0.0))):
                if model is not None and good is not None:
                    model.load_state_dict(good)
                raise guard.error(step)
            history.steps.append(step)
            history.train.append(metrics)
            if callback is not None:
                callback(Event("step", epoch, step, total, metrics, time.perf_counter() - start))
        if on_epoch_end is not None:
            on_epoch_end(epoch)
        if val_fn is not None:
            vm = val_fn()
            history.val_steps.append(step)
            history.val.append(vm)
            if callback is not None:
                callback(Event("val", epoch, step, total, vm, time.perf_counter() - start))
    if callback is not None:
        callback(Event("done", epochs - 1, step, total, history.last_val(),
                       time.perf_counter() - start))
    return history
