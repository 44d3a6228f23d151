"""The Sequence Lab's control groups alone, without a lab: each owns its state and says what
the user did through its signals."""

import importlib

import numpy as np
import pytest

from explorer.engine.io import save_model
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_transformer import TransformerSession, random_transformer
from explorer.ui.sequence.model_picker import ModelPicker
from explorer.ui.sequence.unit_finder import REGEX, UnitFinder
from explorer.ui.sequence.unit_selector import UnitSelector


def test_unit_selector_owns_the_unit_and_says_when_the_user_changes_it(qtbot):
    sel = UnitSelector()
    qtbot.addWidget(sel)
    heard = []
    sel.unit_selected.connect(lambda u, st: heard.append((u, st)))
    sel.set_model(8, lstm=False)
    sel.select(50, "c")                         # clipped; a GRU/RNN has no cell state
    assert (sel.unit, sel.state, sel.spin.value()) == (7, "h", 7)
    assert heard == []                          # select() is the program's, not the user's
    sel.spin.setValue(3)                        # the user
    assert heard == [(3, "h")] and sel.unit == 3
    sel.spin.setValue(-1)
    assert heard[-1] == (None, "h") and sel.unit is None
    sel.set_model(4, lstm=True)
    assert sel.state_combo.isEnabled() and sel.spin.maximum() == 3 and sel.unit is None
    sel.spin.setValue(2)
    sel.state_combo.setCurrentIndex(sel.state_combo.findData("c"))
    assert heard[-1] == (2, "c") and sel.state == "c"
    rows = []
    sel.rows_chosen.connect(lambda: rows.append(sel.rows))
    sel.rows_combo.setCurrentIndex(sel.rows_combo.findData("unit"))
    assert rows == ["unit"]


def test_unit_finder_finds_the_unit_that_follows_the_signal(qtbot):
    text = "ab1cd22ef333gh"
    digit = np.array([c.isdigit() for c in text], np.float32)
    rng = np.random.default_rng(0)
    h = rng.normal(size=(len(text), 5)).astype(np.float32) * 0.1
    h[:, 3] += digit                           # unit 3 lights up on digits
    finder = UnitFinder(lambda: {"h": h}, lambda: text)
    qtbot.addWidget(finder)
    found, said = [], []
    finder.unit_found.connect(lambda u, st: found.append((u, st)))
    finder.said.connect(said.append)
    finder.combo.setCurrentText(REGEX)
    assert finder.regex_edit.isEnabled() and finder.signal_name() is None
    finder.button.click()                      # no expression typed: said, nothing found
    assert found == [] and said == ["Type a regular expression first."]
    finder.regex_edit.setText(r"\d")
    finder.button.click()
    assert found == [(3, "h")] and finder.last_ranking[0].unit == 3 and finder.last_ranking[0].r > 0.9
    assert f"<b>{finder.last_ranking[0].name}</b>" in said[-1]
    finder.regex_edit.setText("(")             # a broken expression: said, the ranking kept
    finder.button.click()
    assert len(found) == 1 and said[-1] != said[-2]


def test_unit_finder_without_states_finds_nothing(qtbot):
    finder = UnitFinder(lambda: {}, lambda: "")
    qtbot.addWidget(finder)
    found = []
    finder.unit_found.connect(lambda u, st: found.append(u))
    finder.find_units()
    assert found == [] and finder.last_ranking == []


def test_model_picker_opens_each_family_and_says_why_a_file_cannot_be_read(qtbot, tmp_path):
    picker = ModelPicker()
    qtbot.addWidget(picker)
    chosen, said, presets = [], [], []
    picker.session_chosen.connect(lambda s, key, label: chosen.append((s, key, label)))
    picker.said.connect(said.append)
    picker.preset_chosen.connect(presets.append)
    save_model(random_transformer(d_model=8, nhead=2, layers=1, context=16), tmp_path / "t.npz")
    save_model(random_model("GRU", hidden=6), tmp_path / "g.npz")
    picker.open_file(str(tmp_path / "t.npz"), "my transformer")
    picker.open_file(str(tmp_path / "g.npz"))
    assert [type(s) for s, _, _ in chosen] == [TransformerSession, SequenceSession]
    assert chosen[0][2] == "my transformer" and chosen[1][2] == "File: g.npz"
    assert chosen[1][1].endswith(":6:GRU")
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    picker.open_file(str(tmp_path / "bad.npz"))
    assert len(chosen) == 2 and said and said[-1].startswith("Cannot open File: bad.npz")
    picker.preset_combo.activated.emit(1)
    assert presets == [picker.preset_combo.itemText(1)] and picker.preset_combo.currentIndex() == 0


def test_model_picker_show_index_opens_nothing(qtbot, tmp_path):
    picker = ModelPicker()
    qtbot.addWidget(picker)
    save_model(random_model("GRU", hidden=6), tmp_path / "g.npz")
    chosen = []
    picker.session_chosen.connect(lambda *a: chosen.append(a))
    picker.combo.blockSignals(True)
    picker.combo.addItem("g", str(tmp_path / "g.npz"))
    picker.combo.addItem("g again", str(tmp_path / "g.npz"))
    picker.combo.blockSignals(False)
    picker.show_index(1)
    assert picker.combo.currentIndex() == 1 and chosen == []
    picker.load(0)
    assert len(chosen) == 1 and chosen[0][2] == "g"


@pytest.mark.parametrize("name", ["unit_selector", "unit_finder", "model_picker"])
def test_each_control_group_runs_alone_with_demo_data(qtbot, name):
    from explorer.ui.sequence.demo import demo_frame
    session, view = demo_frame()
    w = importlib.import_module(f"explorer.ui.sequence.{name}").demo(session, view)
    qtbot.addWidget(w)
    w.show()
    shown = {"unit_selector": lambda: w.unit == view.unit and w.spin.value() == view.unit,
             "unit_finder": lambda: w.signal_name() == w.combo.currentText(),
             "model_picker": lambda: w.combo.count() >= 1}
    assert w.isVisible() and shown[name]()
