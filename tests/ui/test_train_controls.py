"""The Train lab's control groups alone, without a lab."""

from explorer.session.train import KINDS, default_config
from explorer.ui.train.controls import RunButtons, TrainSettings


def test_train_settings_say_which_model_was_chosen_and_bring_its_defaults(qtbot):
    ts = TrainSettings()
    qtbot.addWidget(ts)
    chosen = []
    ts.model_chosen.connect(chosen.append)
    ts.set_config(default_config("toy"))
    assert chosen == ["toy"] and ts.config() == default_config("toy")
    ts.kind.setCurrentIndex(ts.kind.findData("text"))      # the user picks another kind
    assert chosen[-1] == "text" and ts.config() == default_config("text")
    ts.preset.setCurrentIndex(ts.preset.count() - 1)
    assert chosen[-1] == "text" and len(chosen) == 3
    ts.lr.setValue(0.5)                                      # how to train: no new model
    assert len(chosen) == 3 and ts.config().lr == 0.5
    ts.set_choosable(False)
    assert not any(w.isEnabled() for w in (ts.kind, ts.preset, ts.data))
    assert set(ts.kind.itemData(i) for i in range(ts.kind.count())) == set(KINDS)


def test_run_buttons_emit_clicks_and_follow_the_run_without_echo(qtbot):
    rb = RunButtons()
    qtbot.addWidget(rb)
    heard = []
    for name in ("start_clicked", "step_clicked", "stop_clicked", "reset_clicked", "save_clicked"):
        getattr(rb, name).connect(lambda name=name: heard.append(name))
    rb.pause_toggled.connect(lambda on: heard.append(("pause", on)))
    rb.show_running(True)
    for b in (rb.start_btn, rb.step_btn, rb.stop_btn, rb.reset_btn, rb.save_btn, rb.pause_btn):
        b.click()
    assert heard == ["step_clicked", "stop_clicked", "reset_clicked", "save_clicked", ("pause", True)]
    assert not rb.start_btn.isEnabled()                     # a disabled Start says nothing
    rb.show_paused(False)                                    # the worker resumed: no echo back
    assert heard[-1] == ("pause", True) and rb.pause_btn.text() == "Pause" and not rb.pause_btn.isChecked()
    rb.show_paused(True)
    assert rb.pause_btn.text() == "Resume" and len(heard) == 5
