"""Nothing is computed for a panel on a hidden tab (a folded 1024x640 window): the gate window,
the Memory panel's influence and the unrolled steps are skipped while their tab is hidden, and
computed for the current text and cursor the moment the tab is shown, before it paints."""

import numpy as np

from explorer.ui.sequence import SequenceLab


def _tab_of(lab, panel):
    tabs = lab.fold.tabs
    return next(i for i in range(tabs.count()) if tabs.widget(i).isAncestorOf(panel) or tabs.widget(i) is panel)


def test_a_hidden_tab_is_skipped_and_computed_when_shown(qtbot, ui):
    lab = ui.shown(qtbot, SequenceLab(settings=None), 1024, 640)
    assert lab.session is not None and lab.session.rec is not None and lab.fold.folded
    lab.editor.setPlainText("def f(x):\n    return [x, 'a'] * 2\n" * 4)
    lab.move_cursor(50)
    qtbot.waitUntil(lab.is_idle)
    tabs = lab.fold.tabs
    tab = {name: _tab_of(lab, panel) for name, panel in
           (("gates", lab.gates), ("memory", lab.memory_panel), ("unrolled", lab.unrolled))}
    assert len(set(tab.values())) > 1

    def computed(v):
        return {"gates": bool(v.gates), "memory": v.memory is not None, "unrolled": v.steps[1] is not None}

    tabs.setCurrentIndex(tab["memory"])
    qtbot.keyClick(lab.editor, "z")
    qtbot.waitUntil(lab.is_idle)
    assert computed(lab.view) == {name: tab[name] == tab["memory"] for name in tab}   # hidden ones skipped
    for name in ("gates", "unrolled", "memory"):
        frames = lab.frames
        if tabs.currentIndex() == tab[name]:
            continue
        tabs.setCurrentIndex(tab[name])                # shown: its frame now, no event loop needed
        assert lab.frames == frames + 1
        assert computed(lab.view) == {other: tab[other] == tab[name] for other in tab}
    v = lab.view
    tabs.setCurrentIndex(tab["gates"])
    v = lab.view
    want = lab.session.gates(v.start, v.stop)
    assert set(v.gates) == set(want)
    for k in want:
        np.testing.assert_array_equal(v.gates[k], want[k])
    assert v.step == len(lab.editor.toPlainText()[:51]) - 1        # the current cursor (after the key)
    lab.colour_combo.setCurrentText("memory (influence)")  # colouring by memory needs it, hidden or not
    qtbot.waitUntil(lab.is_idle)
    lab.render()
    assert lab.view.memory is not None and lab.view.colour is not None
    lab.close()


def test_a_shown_lab_computes_every_panel(sequence_lab):
    lab = sequence_lab
    assert not lab.fold.folded
    lab.editor.setPlainText("x = 1\n" * 20)
    lab.move_cursor(60)
    lab.render()
    v = lab.view
    assert v.gates and v.memory is not None and v.steps[1] is not None
    assert lab._skipped == set()


def test_the_trajectory_and_predictions_are_skipped_on_a_hidden_tab(qtbot, ui):
    """Their tab hidden: no trail and no top outputs are computed, the panels keep what they
    showed; shown again: the current frame's, as a lab that never hid them computes it."""
    lab = ui.shown(qtbot, SequenceLab(settings=None), 1024, 640)
    assert lab.fold.folded
    lab.editor.setPlainText("def f(x):\n    return [x, 'a'] * 2\n" * 4)
    lab.move_cursor(50)
    qtbot.waitUntil(lab.is_idle)
    tabs = lab.fold.tabs
    mine = _tab_of(lab, lab.trajectory)
    assert _tab_of(lab, lab.predictions) == mine
    other = next(i for i in range(tabs.count()) if i != mine)
    tabs.setCurrentIndex(mine)
    lab.render()
    labels, bars = lab.trajectory.label_texts(), lab.predictions.value_labels()
    assert labels and bars
    tabs.setCurrentIndex(other)
    qtbot.keyClicks(lab.editor, "zq")
    qtbot.waitUntil(lab.is_idle)
    v = lab.view
    assert v.trail.shape[0] == 0 and v.top == [] and not v.request.trajectory and not v.request.predictions
    assert {lab.trajectory, lab.predictions} <= lab._skipped
    assert lab.trajectory.label_texts() == labels            # the hidden panels kept their last frame
    assert lab.predictions.value_labels() == bars
    frames = lab.frames
    tabs.setCurrentIndex(mine)                               # shown: its frame now, before it paints
    assert lab.frames == frames + 1
    v = lab.view
    assert v.request.trajectory and v.request.predictions and len(v.top) == 5
    assert v.trail.shape[0] == min(v.step + 1, v.request.trail) and v.trail_chars.endswith("zq")
    want = lab.session.trajectory_basis().transform(lab.session.hidden_states(v.trail_first, v.step + 1))
    np.testing.assert_array_equal(v.trail, want)
    assert [label for label, _, _ in v.top] == [label for label, _, _ in lab.session.top_k(v.cursor, 5)]
    lab.close()
