"""TrainWorker: runs ``explorer.training.loop.fit`` on a QThread; the window never waits.

Everything leaves the thread through queued signals, throttled to ~10 Hz: ``progress``
carries the new (step, loss, acc) points since the last emit, the ETA and a picture
(kernels or trajectory); ``validated`` each epoch's validation metrics; ``model_ready`` a
detached copy of the model (≤ 1 Hz, and at the end) for the labs that use it. Control
goes in through ``threading.Event``s: cancel, pause, and a one-step request.

Why the worker waits after each progress signal: a CPU-bound Python thread holds the GIL,
and pyqtgraph's paint calls back into Python many times per frame; each call then waits up
to the 5 ms switch interval for the GIL, so one repaint took 0.5–5 s (measured). After
emitting, the worker blocks (GIL released) until the GUI calls ``drawn()`` — which the lab
does once its repaint has gone through the event loop — or ``GUI_WINDOW`` passes. So the GUI
paints uncontended and a stall is bounded by ~``EMIT_EVERY``.
Each step runs under ``lock``; the lab saves (or copies) the model holding it, so a file
always holds the weights of one step, never a half-updated mix.

Crash safety: with a ``checkpoint`` path the worker itself (off the GUI thread) writes the
last good weights there at most every ``CHECKPOINT_EVERY`` s and at the end of the run,
and the best-so-far weights (lowest validation loss) to ``<name>_best.npz`` after each
validation, all atomically. Stopping is prompt: ``request_stop`` also releases the wait
for the GUI, and ``start_worker`` ends the thread from the worker's own thread (a queued
``thread.quit`` would need the GUI thread, which may be the one waiting).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore

from explorer.engine import Model, save_model
from explorer.session.train import TrainJob
from explorer.training.loop import Diverged, DivergenceGuard, Event, fit
from explorer.ui.widgets.jobs import GUI_WINDOW

EMIT_EVERY = 0.1      # s between progress signals (~10 Hz)
MODEL_EVERY = 1.0     # s between model copies handed to the other labs
CHECKPOINT_EVERY = 0.7  # s between autosaves of the last good weights


def detached_copy(model: Model) -> Model:
    """A new Model with copied weights: safe to read in the GUI thread while training goes on."""
    copy = Model.from_arch(model.arch())
    copy.load_state_dict(model.state_dict())
    copy.eval()
    return copy


class TrainWorker(QtCore.QObject):
    """Move to a QThread, connect ``thread.started`` to ``run``; see the module doc."""

    progress = QtCore.Signal(object)      # dict(points=[(step, loss, acc)], step, total, eta, picture)
    validated = QtCore.Signal(object)     # dict(step, loss, acc)
    model_ready = QtCore.Signal(object)   # a detached Model copy
    paused_changed = QtCore.Signal(bool)
    finished = QtCore.Signal(str)         # "done" | "stopped" | "diverged: ..." | "error: ..."

    job_ready = QtCore.Signal(object)     # the TrainJob, once built in the thread

    def __init__(self, make_job: Callable[[], TrainJob], start_paused: bool = False,
                 checkpoint: str | Path | None = None) -> None:
        super().__init__()
        self._make_job = make_job
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_error: str | None = None
        self._good: dict[str, np.ndarray] | None = None
        self._best_val = np.inf
        self._last_ckpt = 0.0
        self._shadow: Model | None = None
        self.job: TrainJob | None = None
        self.cancel, self.pause = threading.Event(), threading.Event()
        if start_paused:
            self.pause.set()
        self._single = False
        self.lock = threading.Lock()
        self._drawn = threading.Event()
        self._step = self._total = 0
        self._eta = 0.0
        self._points: list[tuple[int, float, float]] = []
        self._last_emit = self._last_model = 0.0

    # -- control (any thread) --------------------------------------------------------
    def request_stop(self) -> None:
        self.cancel.set()
        self.pause.clear()
        self._drawn.set()             # do not wait for a GUI that is busy stopping us

    def set_paused(self, paused: bool) -> None:
        self._single = False
        (self.pause.set if paused else self.pause.clear)()
        self.paused_changed.emit(paused)

    def request_step(self) -> None:
        """Run exactly one more step, then pause."""
        self._single = True
        self.pause.clear()

    def drawn(self) -> None:
        """The GUI has drawn the last progress signal: training may go on."""
        self._drawn.set()

    def save(self, path: str | Path) -> bool:
        """Save the model between two steps (callable from the GUI thread); False if no model yet."""
        with self.lock:
            if self.job is None:
                return False
            save_model(self.job.model, Path(path))
            return True

    # -- the thread --------------------------------------------------------------------
    @QtCore.Slot()
    def run(self) -> None:
        try:
            job = self.job = self._make_job()     # loading data can take a second: not in the GUI
        except Exception as exc:  # noqa: BLE001 — shown to the user
            self.finished.emit(f"error: {exc}")
            return
        self.job_ready.emit(job)

        guard = DivergenceGuard()              # the one rule (explorer.training.loop)
        self._good = job.model.state_dict()

        def locked_step(batch: Any) -> dict[str, float]:
            """One step under the lock; ``_good`` holds the weights that produced the last
            loss the guard accepted (taken before the step, so never the bad update)."""
            with self.lock:
                before = job.model.state_dict()
                metrics = job.step_fn(batch)
            if guard.check(float(metrics.get("loss", np.nan))):
                self._good = before
            return metrics

        try:
            # no model= here: locked_step keeps the last good weights itself (under the
            # lock), so fit need not copy the state dict a second time every step
            history = fit(locked_step, job.batches, job.cfg.epochs, job.cfg.steps_per_epoch,
                          val_fn=job.val_fn, callback=self._on_event,
                          cancel=self.cancel, pause=self.pause, guard=guard)
            outcome = "stopped" if history.cancelled else "done"
        except Diverged as exc:
            with self.lock:
                job.model.load_state_dict(self._good)
            outcome = f"diverged: {exc}"
        except Exception as exc:  # noqa: BLE001 — shown to the user, never a crash
            outcome = f"error: {type(exc).__name__}: {exc}"
        self._flush(force=True)
        failed = outcome.startswith("error")          # weights may be half-updated: keep the good ones
        self._save_checkpoint(self._good if failed else job.model.state_dict(), self.checkpoint)
        self.model_ready.emit(detached_copy(job.model))
        self.finished.emit(outcome)

    def _save_checkpoint(self, weights: dict[str, np.ndarray] | None, path: Path | None) -> None:
        """``weights`` of the job's model to ``path`` (atomic), in this thread; errors are kept."""
        job = self.job
        if path is None or weights is None or job is None:
            return
        self._last_ckpt = time.monotonic()
        try:
            if self._shadow is None:
                self._shadow = Model.from_arch(job.model.arch())
            self._shadow.load_state_dict(weights)
            self._shadow.meta = {**job.model.meta, "train_config": asdict(job.cfg), "train_step": self._step}
            path.parent.mkdir(parents=True, exist_ok=True)
            save_model(self._shadow, path)
            self.checkpoint_error = None
        except Exception as exc:  # noqa: BLE001 - a failed autosave must not stop training
            self.checkpoint_error = f"could not keep the weights in {path}: {exc}"

    def _on_event(self, ev: Event) -> None:
        if ev.kind == "step":
            m = ev.metrics
            self._points.append((ev.step, float(m.get("loss", np.nan)), float(m.get("acc", np.nan))))
            self._eta = ev.elapsed / max(ev.step, 1) * (ev.total_steps - ev.step)
            self._step, self._total = ev.step, ev.total_steps
            if self._single:
                self._single = False
                self.pause.set()
                self.paused_changed.emit(True)
                self._flush(force=True)
            else:
                self._flush()
            if time.monotonic() - self._last_ckpt >= CHECKPOINT_EVERY:
                self._save_checkpoint(self._good, self.checkpoint)
        elif ev.kind == "val":
            self.validated.emit({"step": ev.step, "loss": float(ev.metrics["loss"]),
                                 "acc": float(ev.metrics["acc"])})
            val = float(ev.metrics["loss"])
            if self.checkpoint is not None and np.isfinite(val) and val < self._best_val:
                self._best_val = val
                assert self.job is not None          # events come from the job run() made
                self._save_checkpoint(self.job.model.state_dict(),
                                      self.checkpoint.with_name(self.checkpoint.stem + "_best.npz"))
        now = time.monotonic()
        if now - self._last_model >= MODEL_EVERY:
            self._last_model = now
            assert self.job is not None              # events come from the job run() made
            self.model_ready.emit(detached_copy(self.job.model))

    def _flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self._points or (not force and now - self._last_emit < EMIT_EVERY):
            return
        self._last_emit = now
        points, self._points = self._points, []
        self._drawn.clear()
        assert self.job is not None                  # points come from the job run() made
        self.progress.emit({"points": points, "step": self._step, "total": self._total,
                            "eta": self._eta, "picture": self.job.snapshot()})
        if not self.cancel.is_set():
            self._drawn.wait(GUI_WINDOW)
        self._last_emit = time.monotonic()          # EMIT_EVERY counts training time only


def start_worker(worker: TrainWorker, parent: QtCore.QObject | None = None) -> QtCore.QThread:
    """Run ``worker`` on a new QThread (quit and cleaned up when it finishes)."""
    thread = QtCore.QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # direct: ends the thread from the worker's thread, so a GUI thread waiting in
    # QThread.wait() (closing, quitting) is released at once instead of timing out
    worker.finished.connect(thread.quit, QtCore.Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread
