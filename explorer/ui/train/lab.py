"""TrainLab: train any model the app knows and watch it learn; the window never freezes.

``TrainLab(settings=None, parent=None)``. Controls on the left (model kind, architecture
preset, data, optimiser, learning rate, batch size, epochs; start / pause / step / stop /
reset / save), live curves and the kernels or the trajectory on the right. Training runs
in a ``TrainWorker`` on a QThread; ``model_updated(model, kind)`` hands a detached copy of
the model to whoever wants it (≤ 1 Hz), ``model_trained(model, kind)`` the final one.

Crash safety: ``set_checkpoint(path)`` restores the last run's weights kept there (Start
continues from them, Save model saves them) and makes every run keep its last good and
best weights there (written by the worker, off the GUI thread). ``shutdown()`` returns
within ``STOP_BUDGET_S`` even mid-step, keeping the last good weights.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from explorer.engine import Model, load_model, save_model
from explorer.errors import ExplorerError
from explorer.session.train import KINDS, TrainConfig, TrainJob, default_config, make_job
from explorer.ui.train.controls import RunButtons, TrainSettings
from explorer.ui.train.controls import describe as describe_model
from explorer.ui.train.finetune_panel import FinetunePanel
from explorer.ui.train.panels import CurvePanel, KernelPanel, TrajectoryPanel
from explorer.ui.train.worker import (
    TrainWorker,
    detached_copy,
    start_worker,
)
from explorer.ui.widgets.fit import scrolled
from explorer.ui.widgets.jobs import STOP_BUDGET_S, after_repaint
from explorer.ui.widgets.report import describe, report_error
from explorer.ui.widgets.style import header, note


def _eta(seconds: float) -> str:
    s = int(round(max(seconds, 0)))
    return f"{s // 60}:{s % 60:02d}"


class TrainLab(QtWidgets.QWidget):
    """See the module doc. Public for tests: ``start()``, ``set_paused()``, ``step()``,
    ``stop()``, ``reset()``, ``save(path)``, ``config()``, ``set_config(cfg)``, ``loss_panel``."""

    model_updated = QtCore.Signal(object, str)
    model_trained = QtCore.Signal(object, str)
    status = QtCore.Signal(str)
    finished = QtCore.Signal(str)
    model_changed = QtCore.Signal()    # Lab protocol: model_label() has a new text

    def __init__(self, settings: QtCore.QSettings | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.job: TrainJob | None = None
        self.worker: TrainWorker | None = None
        self.worker_thread: QtCore.QThread | None = None
        self.step_offset = 0          # curve x of step 0 of the current run (runs continue)
        self._last_step = 0
        self.checkpoint: Path | None = None
        self._resume: Model | None = None     # weights of the last run, restored at start
        self._build()
        self.set_config(default_config("toy"))
        self.restore_settings(settings)
        self._sync_buttons()

    # -- building: the lab lays out its control groups and panels and connects them ------------
    def _build(self) -> None:
        self.train_settings = TrainSettings()
        self.run_buttons = RunButtons()
        # handles for tests and the shell: the widgets stay owned by their groups
        ts, rb = self.train_settings, self.run_buttons
        self.kind, self.preset, self.data, self.optimizer = ts.kind, ts.preset, ts.data, ts.optimizer
        self.lr, self.batch, self.epochs, self.steps, self.clip = ts.lr, ts.batch, ts.epochs, ts.steps, ts.clip
        self.start_btn, self.pause_btn, self.step_btn = rb.start_btn, rb.pause_btn, rb.step_btn
        self.stop_btn, self.reset_btn, self.save_btn = rb.stop_btn, rb.reset_btn, rb.save_btn
        self.summary = note("")
        self.summary.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("step %v / %m")
        self.progress.setToolTip("Optimiser steps of this run, and the estimated time left.")
        self.eta = QtWidgets.QLabel("ready")
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)

        left = QtWidgets.QVBoxLayout()
        left.addWidget(header("Train lab", "Train a model and watch it learn."))
        left.addWidget(note("Pick a model and its data, then Start. You can keep drawing or typing "
                            "in the other labs: they can use the model while it learns."))
        left.addWidget(ts)
        left.addWidget(rb)
        left.addWidget(self.progress)
        left.addWidget(self.eta)
        left.addWidget(self.message)
        left.addWidget(self.summary)
        # fine-tune the digit model on my examples: its own window
        self.finetune_panel = FinetunePanel(self)
        self.finetune_panel.setWindowFlag(QtCore.Qt.WindowType.Window)
        self.finetune_panel.resize(900, 620)
        self.finetune_btn = QtWidgets.QPushButton("Fine-tune on my examples…")
        self.finetune_btn.setToolTip("Teach the Digit Lab's model your handwriting from the examples "
                                     "you kept (Digits tab: draw, then press the digit key)")
        self.finetune_btn.clicked.connect(self._show_finetune)
        left.addWidget(self.finetune_btn)
        left.addStretch(1)
        inner = QtWidgets.QWidget()
        inner.setLayout(left)
        side = scrolled(inner)                    # scrolls when the window is short
        side.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side.setFixedWidth(345)

        self.loss_panel = CurvePanel("loss", "Loss (cross-entropy)", "loss (nats)",
                                     "Cross-entropy of each training batch (light), its running mean "
                                     "(blue) and the validation loss after each epoch (green). Lower is better; "
                                     "a gap between blue and green means over-fitting.")
        self.acc_panel = CurvePanel("acc", "Accuracy", "fraction correct",
                                    "Fraction of correct answers on each training batch and on the "
                                    "held-out validation set after each epoch.")
        self.kernels = KernelPanel()
        self.trajectory = TrajectoryPanel()
        self.picture = QtWidgets.QStackedWidget()
        self.picture.addWidget(self.kernels)
        self.picture.addWidget(self.trajectory)
        right = QtWidgets.QGridLayout()
        right.addWidget(self.loss_panel, 0, 0)
        right.addWidget(self.acc_panel, 0, 1)
        right.addWidget(self.picture, 1, 0, 1, 2)
        right.setRowStretch(0, 1)
        right.setRowStretch(1, 1)
        outer = QtWidgets.QHBoxLayout(self)
        outer.addWidget(side)
        outer.addLayout(right, 1)

        ts.model_chosen.connect(self._model_chosen)
        rb.start_clicked.connect(self.start)
        rb.pause_toggled.connect(self.set_paused)
        rb.step_clicked.connect(self.step)
        rb.stop_clicked.connect(self.stop)
        rb.reset_clicked.connect(self.reset)
        rb.save_clicked.connect(self._save_dialog)

    # -- settings <-> widgets ---------------------------------------------------------------
    def config(self) -> TrainConfig:
        return self.train_settings.config()

    def set_config(self, cfg: TrainConfig) -> None:
        self.train_settings.set_config(cfg)

    def _model_chosen(self, kind: str) -> None:
        self.picture.setCurrentWidget(self.kernels if kind == "digits-cnn" else self.trajectory)
        if not self.running():
            self.reset()
        self.model_changed.emit()

    # -- running -----------------------------------------------------------------------------
    def _show_finetune(self) -> None:
        self.finetune_panel.show()
        self.finetune_panel.raise_()

    def running(self) -> bool:
        return self.worker_thread is not None and self.worker_thread.isRunning()

    def start(self, paused: bool = False) -> None:
        """Start (or continue, keeping the weights) with the current settings."""
        if self.running():
            return
        cfg, old = self.config(), self.job
        if self.settings is not None:
            self.settings.setValue("train/kind", cfg.kind)

        def factory() -> TrainJob:
            job = make_job(cfg)
            if old is not None and (old.cfg.kind, old.cfg.preset, old.cfg.data) == (cfg.kind, cfg.preset, cfg.data):
                job.model.load_state_dict(old.model.state_dict())
            return job

        resume = self._resume if old is None else None

        def resumed() -> TrainJob:
            job = factory()
            if resume is not None and resume.arch()["layers"] == job.model.arch()["layers"]:
                job.model.load_state_dict(resume.state_dict())   # carry on from the kept run
            return job

        self.step_offset = self._last_step
        self.worker = TrainWorker(resumed, start_paused=paused, checkpoint=self.checkpoint)
        self.worker.job_ready.connect(self._on_job)
        self.worker.progress.connect(self._on_progress)
        self.worker.validated.connect(self._on_val)
        self.worker.model_ready.connect(lambda m: self.model_updated.emit(m, cfg.kind))
        self.worker.paused_changed.connect(self._on_paused)
        self.worker.finished.connect(self._on_finished)
        self.message.setText("")
        self.pause_btn.blockSignals(True)
        self.pause_btn.setChecked(paused)
        self.pause_btn.blockSignals(False)
        self.progress.setRange(0, cfg.epochs * cfg.steps_per_epoch)
        self.progress.setValue(0)
        self.eta.setText("preparing data…")
        self.worker_thread = start_worker(self.worker, self)
        self._sync_buttons()

    def set_paused(self, paused: bool) -> None:
        if self.worker is not None and self.running():
            self.worker.set_paused(bool(paused))

    def step(self) -> None:
        """One optimiser step, then pause (starts a paused run if none is going)."""
        if not self.running():
            self.start(paused=True)
        assert self.worker is not None
        self.worker.request_step()

    def stop(self, wait_ms: int = 0) -> None:
        if self.worker is not None:
            self.worker.request_stop()
        if wait_ms and self.worker_thread is not None:
            self.worker_thread.quit()            # ends as soon as the worker's run() returns
            self.worker_thread.wait(wait_ms)

    def reset(self) -> None:
        """Stop, forget the weights and the curves; the next Start builds a fresh model."""
        if self.running():
            self.stop(wait_ms=5000)
        self.job = self._resume = None
        self.step_offset = self._last_step = 0
        self.loss_panel.clear()
        self.acc_panel.clear()
        self.progress.setValue(0)
        self.eta.setText("ready")
        self.message.setText("")
        self.summary.setText(describe_model(self.config()))
        self._sync_buttons()

    def save(self, path: str | Path) -> Path:
        """Save the current model (atomic); raises ExplorerError if there is none yet."""
        path = Path(path)
        if self.worker is not None and self.running() and self.worker.save(path):
            pass
        elif self.job is not None or self._resume is not None:
            model = self.job.model if self.job is not None else self._resume
            assert model is not None                 # one of the two, by the test above
            save_model(model, path)
        else:
            raise ExplorerError("nothing to save yet: start training first")
        self.status.emit(f"saved {path}")
        self.message.setText(f"Saved to {path}")
        return path

    def current_model(self) -> Model | None:
        """A detached copy of the model being trained (None before the first start)."""
        if self.worker is not None and self.running():
            with self.worker.lock:
                return detached_copy(self.worker.job.model) if self.worker.job else None
        if self.job is None:
            return detached_copy(self._resume) if self._resume is not None else None
        return detached_copy(self.job.model)

    def _save_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save model", "model.npz", "Model files (*.npz)")
        if path:
            try:
                self.save(path)
            except (RuntimeError, OSError, ExplorerError, ValueError) as exc:
                self.message.setText(f"<span style='color:#b00020'>{describe(exc)}</span>")
                report_error(self, "Save model failed", describe(exc))

    # -- worker signals (queued: GUI thread) -----------------------------------------------
    def _on_job(self, job: TrainJob) -> None:
        self.job, self._resume = job, None
        self.eta.setText("training…")

    def _on_progress(self, p: dict) -> None:
        pts = p["points"]
        off = self.step_offset
        self.loss_panel.add([(off + s, loss) for s, loss, _ in pts])
        self.acc_panel.add([(off + s, acc) for s, _, acc in pts])
        self._last_step = off + p["step"]
        self.progress.setValue(p["step"])
        self.eta.setText(f"step {p['step']} of {p['total']} · ETA {_eta(p['eta'])}")
        pic = p["picture"]
        if "kernels" in pic:
            self.kernels.show_kernels(pic["kernels"])
        elif "trajectory" in pic:
            self.trajectory.show_path(pic["trajectory"])
        self.loss_panel.plot.getPlotItem().enableAutoRange()
        acc = self.acc_panel.plot.getPlotItem()
        acc.enableAutoRange(x=True)
        acc.setYRange(0, 1.02, padding=0)
        worker = self.worker
        if worker is not None:
            after_repaint(worker.drawn)

    def _on_val(self, v: dict) -> None:
        self.loss_panel.add_val(self.step_offset + v["step"], v["loss"])
        self.acc_panel.add_val(self.step_offset + v["step"], v["acc"])
        self.message.setText(f"validation after step {v['step']}: accuracy {v['acc']:.1%}, loss {v['loss']:.3f}")

    def _on_paused(self, paused: bool) -> None:
        self.run_buttons.show_paused(paused)

    def _on_finished(self, outcome: str) -> None:
        kind = self.config().kind
        if outcome.startswith("diverged"):
            self.message.setText(f"<span style='color:#b00020'><b>Stopped: {outcome[10:]}.</b> "
                                 "Lower the learning rate and Start again.</span>")
        elif outcome.startswith("error"):
            self.message.setText(f"<span style='color:#b00020'>{outcome}</span>")
        else:
            self.eta.setText("finished" if outcome == "done" else "stopped")
        if self.job is not None and not outcome.startswith("error"):
            self.model_trained.emit(detached_copy(self.job.model), kind)
        self.worker_thread = None
        self._on_paused(False)
        self._sync_buttons()
        self.status.emit(f"training {outcome}")
        if self.worker is not None and self.worker.checkpoint_error:
            self.status.emit(self.worker.checkpoint_error)
        self.finished.emit(outcome)

    def _sync_buttons(self) -> None:
        run = self.running()
        self.run_buttons.show_running(run)
        self.train_settings.set_choosable(not run)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker and wait for its thread, at most STOP_BUDGET_S (window close, quit)."""
        self.stop(wait_ms=int(STOP_BUDGET_S * 1000))

    # -- Lab protocol (explorer.ui.widgets.lab_protocol); kept between runs -------------------------
    def model_label(self) -> str:
        cfg = self.config()
        return f"training: <b>{KINDS.get(cfg.kind, cfg.kind)}</b> · {cfg.preset} on {cfg.data}"

    def save_settings(self, s: QtCore.QSettings | None = None) -> None:
        if (s := s if s is not None else self.settings) is not None:
            s.setValue("train/config", json.dumps(asdict(self.config())))

    def restore_settings(self, s: QtCore.QSettings | None = None) -> None:
        """The last configuration (a damaged one gives the defaults of its kind)."""
        if s is None or self.running():
            return
        kind = str(s.value("train/kind", "toy"))
        self.set_config(default_config(kind if kind in KINDS else "toy"))
        if s.value("train/config") is not None:
            try:
                self.set_config(TrainConfig(**json.loads(str(s.value("train/config")))).checked())
            except (ExplorerError, TypeError, ValueError, OverflowError):
                self.set_config(default_config(kind if kind in KINDS else "toy"))

    def set_checkpoint(self, path: str | Path) -> str | None:
        """Keep runs' weights at ``path``; restore the run kept there. -> why not, or None."""
        self.checkpoint = Path(path)
        if not os.path.lexists(path):
            return None
        try:
            model = load_model(path)
            cfg = TrainConfig(**model.meta["train_config"]).checked()
        except (ExplorerError, KeyError, TypeError, ValueError, RecursionError, MemoryError) as exc:
            return f"{Path(path).name} is not a kept training run ({type(exc).__name__}: {exc})"
        if self.running():
            return None
        self.set_config(cfg)                    # resets: the kept weights come after
        self._resume = model
        self.message.setText(f"Restored the weights of your last run (step {model.meta.get('train_step', '?')}): "
                             "Start continues from them, Save model keeps them.")
        return None

