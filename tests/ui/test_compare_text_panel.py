"""The Compare lab's 'Real code' panel: the shipped figures, the training effort, honest verdicts."""

from __future__ import annotations

import copy
import json

from explorer.session.compare_text import load_text_view, view_from_result
from explorer.ui.compare.text_panel import COLUMNS, TextComparePanel


def _result(bpc8: float, bpc16: float, beyond16: float) -> dict:
    def cnn(field, bpc, acc):
        return {"kind": "cnn", "bpc": bpc, "params": 1000, "file": f"c{field}.npz", "receptive_field": field,
                "closer_accuracy": 0.3, "beyond_field": {"n": 40, "accuracy": acc, "rnn_accuracy": 0.4},
                "training": {"steps": 100, "chars_seen": 409_600, "train_seconds": 95.0, "train_cpu_seconds": 50.0,
                             "valid_curve": [[50, 204_800, 3.0, 40.0], [100, 409_600, 2.5, 95.0]],
                             "chars_per_cpu_second": 8192, "macs_per_char": 990}}
    rows = [{"distance_min": 1, "distance_max": 8, "n": 10, "LSTM": 0.5, "CNN-8": 0.4, "CNN-16": 0.45},
            {"distance_min": 9, "distance_max": None, "n": 5, "LSTM": 0.3, "CNN-8": None, "CNN-16": 0.1}]
    return {"rows": rows, "held_out": {"n_chars": 5000, "n_closers": 15, "source": "test"},
            "models": {"LSTM": {"kind": "rnn", "bpc": 2.0, "params": 1000, "file": "l.npz",
                                "receptive_field": None, "closer_accuracy": 0.45,
                                "training": {"steps": 200, "chars_seen": 800_000, "macs_per_char": 1000}},
                       "CNN-8": cnn(8, bpc8, 0.1), "CNN-16": cnn(16, bpc16, beyond16)}}


def test_panel_shows_figures_effort_and_the_truth(qtbot):
    good = view_from_result(_result(2.6, 2.5, 0.2))
    panel = TextComparePanel(good)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 3
    texts = [panel.table.item(1, c).text() for c in range(len(COLUMNS))]
    assert texts[0] == "CNN-8" and texts[6] == "100" and texts[7] == "0.4 M" and "(50 s)" in texts[8]
    assert "A wider field never reads worse" in panel.summary.text()
    assert "the LSTM predicts more closers than CNN-8, CNN-16" in panel.summary.text()

    bad = view_from_result(_result(2.5, 2.6, 0.5))     # wider reads worse; beats the LSTM beyond
    panel.set_view(bad)
    assert "CNN-16 reads worse than CNN-8" in panel.summary.text()
    assert "never reads worse" not in panel.summary.text()
    assert "CNN-16 predicts as many closers as the LSTM or more" in panel.summary.text()
    panel.set_view(None)
    assert panel.table.rowCount() == 0 and "No shipped result" in panel.summary.text()


def test_every_column_fits_at_1024(qtbot):
    panel = TextComparePanel(view_from_result(_result(2.6, 2.5, 0.2)))
    qtbot.addWidget(panel)
    panel.resize(1000, 470)
    panel.show()
    qtbot.waitExposed(panel)
    header = panel.table.horizontalHeader()
    assert header.length() <= panel.table.viewport().width() + 1
    assert panel.table.height() >= header.height() + 3 * panel.table.rowHeight(0)


def test_a_foreign_or_missing_file_is_no_view(tmp_path):
    assert load_text_view(tmp_path / "none.json") is None
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    assert load_text_view(tmp_path / "x.json") is None
    res = copy.deepcopy(_result(2.6, 2.5, 0.2))
    res["format"] = "cnn-rnn-explorer/compare-text"
    (tmp_path / "ok.json").write_text(json.dumps(res))
    view = load_text_view(tmp_path / "ok.json")
    assert view is not None and [m.name for m in view.models] == ["LSTM", "CNN-8", "CNN-16"]
    assert view.models[1].curve == [(204_800, 3.0), (409_600, 2.5)]
    assert view.bins == ["1–8", ">8"]


def test_the_lab_has_the_real_code_tab(qtbot):
    from explorer.ui.compare.lab import CompareLab
    lab = CompareLab()
    qtbot.addWidget(lab)
    names = [lab.tabs.tabText(i) for i in range(lab.tabs.count())]
    assert "Real code" in names
    lab.tabs.setCurrentWidget(lab.text)
    assert "held-out Python" in lab.model_label()


def test_how_far_each_network_sees(qtbot):
    """A CNN sees its field, a transformer its window, a recurrent network everything before (its state)."""
    res = _result(2.6, 2.5, 0.2)
    res["models"]["Transformer"] = {"kind": "transformer", "bpc": 2.1, "params": 1000, "file": "t.npz",
                                    "receptive_field": None, "closer_accuracy": 0.4, "context": 128,
                                    "training": {"steps": 10, "chars_seen": 1000, "macs_per_char": 10}}
    for row, acc in zip(res["rows"], (0.5, 0.2)):
        row["Transformer"] = acc
    panel = TextComparePanel(view_from_result(res))
    qtbot.addWidget(panel)
    seen = {panel.table.item(r, 0).text(): panel.table.item(r, 1).text() for r in range(panel.table.rowCount())}
    assert seen == {"LSTM": "∞ (state)", "CNN-8": "8", "CNN-16": "16", "Transformer": "128 (window)"}


def test_a_grown_cnn_draws_its_curve_from_where_it_grew(qtbot):
    """CNN-16 started as CNN-8 after its 409,600 characters: its recorded curve repeats CNN-8's
    up to there, so the plot draws it from that point on and the two lines join."""
    res = _result(2.6, 2.5, 0.2)
    t16 = res["models"]["CNN-16"]["training"]
    t16["valid_curve"] = [[50, 204_800, 3.0, 40.0], [100, 409_600, 2.5, 95.0], [150, 614_400, 2.4, 130.0]]
    t16["grown_from"] = {"file": "c8.npz", "steps": 100, "chars_seen": 409_600}
    view = view_from_result(res)
    cnn8, cnn16 = view.models[1], view.models[2]
    assert cnn8.own_curve() == cnn8.curve and cnn8.grown_from is None
    assert cnn16.grown_from == "c8.npz" and cnn16.own_curve() == [(409_600, 2.5), (614_400, 2.4)]
    panel = TextComparePanel(view)
    qtbot.addWidget(panel)
    xs, ys = panel.drawn_curve("CNN-16")
    assert list(xs) == [0.4096, 0.6144] and list(ys) == [2.5, 2.4]
    xs, _ = panel.drawn_curve("CNN-8")
    assert list(xs) == [0.2048, 0.4096]
