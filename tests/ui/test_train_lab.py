"""Train lab: a short real training in the worker thread, pause/step/stop, save, divergence."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from explorer.engine import load_model
from explorer.session.train import TrainConfig, make_job
from explorer.ui.train.lab import TrainLab

TINY = TrainConfig(kind="toy", preset="GRU 8", data="parity", lr=1e-2, batch_size=16,
                   epochs=2, steps_per_epoch=40)


@pytest.fixture
def lab(qtbot, ui):
    w = ui.shown(qtbot, TrainLab(), 1000, 700)
    yield w
    w.shutdown()


def run_to_end(qtbot, lab, timeout=120000):   # a deadline, not a timing: a loaded machine is slower
    with qtbot.waitSignal(lab.finished, timeout=timeout) as blocker:
        lab.start()
    return blocker.args[0]


def test_short_training_fills_curves_and_stays_responsive(qtbot, lab):
    lab.set_config(TrainConfig(**{**TINY.__dict__, "preset": "LSTM 16", "steps_per_epoch": 300}))
    ticks = []
    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(lab.running()))
    timer.start()
    outcome = run_to_end(qtbot, lab)
    timer.stop()
    assert outcome == "done"
    assert lab.loss_panel.n_points() == 600                # every step reached the curve
    assert len(lab.loss_panel.val_values) == 2             # one validation per epoch
    assert sum(ticks) >= 3                                 # the event loop ran while training
    assert lab.progress.value() == 600
    assert lab.trajectory.path.getData()[0] is not None    # the RNN picture was drawn


def test_pause_step_and_stop(qtbot, lab):
    lab.set_config(TrainConfig(**{**TINY.__dict__, "epochs": 50}))
    lab.step()                                             # starts paused, runs exactly one step
    qtbot.waitUntil(lambda: lab.loss_panel.n_points() == 1, timeout=10000)
    qtbot.wait(300)
    assert lab.loss_panel.n_points() == 1                  # paused after that step
    assert lab.pause_btn.isChecked()
    lab.set_paused(False)
    qtbot.waitUntil(lambda: lab.loss_panel.n_points() > 5, timeout=10000)
    lab.set_paused(True)
    qtbot.wait(250)
    n = lab.loss_panel.n_points()
    qtbot.wait(400)
    assert lab.loss_panel.n_points() <= n + 1              # paused: at most the in-flight step
    with qtbot.waitSignal(lab.finished, timeout=10000) as blocker:
        lab.stop()
    assert blocker.args[0] == "stopped"
    assert lab.loss_panel.n_points() < 50 * 40


def test_saved_file_loads_back(qtbot, lab, tmp_path):
    lab.set_config(TINY)
    run_to_end(qtbot, lab)
    path = lab.save(tmp_path / "toy.npz")
    model = load_model(path)
    assert model.meta["toy_task"] == "parity"
    x = np.random.default_rng(0).integers(0, 2, size=(3, 12))
    np.testing.assert_allclose(model.predict(x), lab.job.model.predict(x), atol=1e-6)


def test_save_during_training(qtbot, lab, tmp_path):
    lab.set_config(TrainConfig(**{**TINY.__dict__, "epochs": 50}))
    lab.start()
    qtbot.waitUntil(lambda: lab.loss_panel.n_points() > 3, timeout=10000)
    path = lab.save(tmp_path / "live.npz")
    assert load_model(path).n_params() == lab.job.model.n_params()
    with qtbot.waitSignal(lab.finished, timeout=10000):
        lab.stop()


def test_divergence_stops_with_message_and_finite_weights(qtbot, lab):
    lab.set_config(TrainConfig(kind="toy", preset="RNN 8", data="depth", optimizer="SGD", lr=1e3,
                               batch_size=16, epochs=1, steps_per_epoch=200, clip=0))
    outcome = run_to_end(qtbot, lab)
    assert outcome.startswith("diverged") and "last good weights" in outcome
    assert "Stopped" in lab.message.text()
    assert lab.loss_panel.n_points() < 200                 # it stopped early
    model = lab.job.model
    for p in model.parameters().values():
        assert np.isfinite(p).all()
    b = make_job(TrainConfig(kind="toy", preset="RNN 8", data="depth")).batches(0)
    x, y, mask = next(iter(b))
    from explorer.engine import cross_entropy
    loss, _ = cross_entropy(model.predict(x), y, mask)
    assert loss < 25 * 2.5                                 # the kept weights are the sane ones


def test_model_signals_carry_a_detached_copy(qtbot, lab):
    lab.set_config(TINY)
    got = []
    lab.model_trained.connect(lambda m, kind: got.append((m, kind)))
    run_to_end(qtbot, lab)
    model, kind = got[-1]
    assert kind == "toy"
    assert model is not lab.job.model
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, lab.job.model.parameters()[k])


def test_reset_forgets_weights_and_curves(qtbot, lab):
    lab.set_config(TINY)
    run_to_end(qtbot, lab)
    lab.reset()
    assert lab.job is None and lab.loss_panel.n_points() == 0


def test_digit_cnn_job_draws_kernels():
    job = make_job(TrainConfig(kind="digits-cnn", preset="Tiny CNN (4 kernels)",
                               data="MNIST (best on this machine)", epochs=1, steps_per_epoch=2))
    assert job.snapshot()["kernels"].shape == (4, 3, 3)
