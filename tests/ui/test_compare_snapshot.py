"""The Compare lab answers at once: the shipped pre-computed duel, then 'Train again live'."""

import json

import numpy as np

from explorer.commands.compare_snapshot import snapshot
from explorer.paths import resources_dir
from explorer.ui.compare.duel import DuelPanel
from explorer.ui.compare.snapshot import load_snapshot


def shipped(task):
    return json.loads((resources_dir() / "compare" / f"duel_{task}.json").read_text())


def test_shipped_result_is_what_the_command_computes():
    snap, new = shipped("recall"), snapshot("recall", 20, 400)
    assert new["sample"] == snap["sample"] and new["grid"] == snap["grid"]
    for name in snap["names"]:
        np.testing.assert_allclose(new["acc"][name], snap["acc"][name], atol=0.02)
        np.testing.assert_allclose(new["influence"][name], snap["influence"][name], atol=1e-3)


def test_panel_shows_the_answer_before_anything_is_pressed(qtbot):
    panel = DuelPanel()
    qtbot.addWidget(panel)
    snap = shipped("recall")
    assert panel.snapshot_shown and panel.train_btn.text() == "Train again live"
    x, y = panel.acc["rnn"].getData()
    np.testing.assert_allclose(x, snap["grid"])
    np.testing.assert_allclose(y, snap["acc"][panel.duel.names[1]])
    assert y[-1] > 0.9 > panel.acc["cnn"].getData()[1][-1]      # the LSTM remembers far; the CNN cannot
    heights = panel.bars["rnn"].opts["height"]
    assert len(heights) == len(snap["sample"]) and np.max(heights) > 0
    panel.distance.setValue(21)                                 # no shipped answer for this setting
    assert not panel.snapshot_shown and panel.train_btn.text() == "Train all"
    assert len(panel.acc["rnn"].getData()[0] or []) == 0
    panel.distance.setValue(20)
    assert panel.snapshot_shown


def test_train_again_live_starts_from_empty_plots(qtbot):
    panel = DuelPanel()
    qtbot.addWidget(panel)
    panel.steps.setValue(40)                                    # no shipped answer: a tiny live run
    panel.steps.setValue(400)
    assert panel.snapshot_shown
    panel.train()
    assert not panel.snapshot_shown and panel.progress.value() == 0
    assert panel.duel.step_count == 0 or panel.running()          # a fresh pair, training now
    qtbot.waitUntil(lambda: panel.duel.step_count > 0, timeout=30000)
    panel.shutdown()
    assert not panel.running()


def test_mismatched_snapshot_is_ignored():
    assert load_snapshot("recall", 20, 400, ["CNN", "LSTM"], "not the sample") is None
