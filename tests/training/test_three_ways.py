"""Digits three ways: the shipped JSON's schema, and its figures against the code path."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.data.pen import PenSpec, pen_features
from explorer.data.preprocess import preprocess_strokes
from explorer.data.unipen import DEFAULT_PATH, load_unipen, writer_split
from explorer.engine import load_model, log_softmax, save_model
from explorer.paths import model_path
from explorer.training.digits import predict_proba
from explorer.training.pen import build_pen_model, heldout_strokes
from explorer.training.three_ways import FORMAT, ROBUSTNESS, SUBSET, read_all, three_ways

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_train_pen import _fake_unipen  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "compare" / "digits_three_ways.json"
NAMES = {"CNN": "picture", "row-RNN": "rows", "pen LSTM": "pen", "pen GRU": "pen"}


@pytest.fixture(scope="module")
def shipped() -> dict:
    if not SHIPPED.exists():
        pytest.skip("digits_three_ways.json not made yet")
    return json.loads(SHIPPED.read_text("utf-8"))


def test_shipped_json_schema(shipped):
    assert shipped["format"] == FORMAT and shipped["version"] == 1
    h = shipped["heldout"]
    assert isinstance(h["description"], str) and h["description"]
    assert isinstance(h["writers"], int) and h["writers"] >= 20
    assert isinstance(h["digits"], int) and h["digits"] >= 2000
    assert isinstance(h["sources"], list) and len(h["sources"]) == 6
    assert [m["name"] for m in shipped["models"]] == list(NAMES)
    for m in shipped["models"]:
        assert m["reads"] == NAMES[m["name"]]
        assert (Path(__file__).resolve().parents[2] / m["file"]).exists()
        assert isinstance(m["params"], int) and m["params"] == load_model(model_path(Path(m["file"]).name)).n_params()
        assert 0.0 <= m["accuracy"] <= 1.0 and len(m["per_digit"]) == 10
        assert all(0.0 <= p <= 1.0 for p in m["per_digit"])
        assert math.isfinite(m["ms_per_reading"]) and m["ms_per_reading"] > 0
        assert set(m["robustness"]) == set(ROBUSTNESS)
        assert all(0.0 <= v <= 1.0 for v in m["robustness"].values())
        if m["reads"] == "pen":                          # blind to the pen's width
            assert m["robustness"]["thicker"] == m["accuracy"]
        if m["reads"] in ("picture", "rows"):            # the picture has no stroke order
            assert m["robustness"]["reversed"] == m["accuracy"]
            assert m["robustness"]["permuted"] == m["multi_stroke_accuracy"]
    assert shipped["command"].startswith("cnn-rnn-explorer compare --task digits-three-ways ")
    assert shipped["command"].endswith("--out resources/compare/digits_three_ways.json")


@pytest.mark.skipif(not Path(DEFAULT_PATH).exists(), reason="the UNIPEN training file is not here")
def test_shipped_figures_recomputed_on_a_subset(shipped):
    """The first SUBSET held-out digits, read by each shipped model here, give the JSON's figure."""
    data = load_unipen(DEFAULT_PATH)
    held = data.subset(writer_split(data)[1])
    drawings, labels = heldout_strokes(held)[:SUBSET], held.labels[:SUBSET]
    for m in shipped["models"]:
        model = load_model(model_path(Path(m["file"]).name))
        acc = float((read_all(model, m["reads"], drawings).argmax(1) == labels).mean())
        assert round(acc, 5) == shipped["subset_check"]["accuracy"][m["name"]], m["name"]


def test_three_ways_figures_follow_the_code_path(tmp_path):
    """On a small synthetic file: each accuracy is what reading the drawings directly gives."""
    data = _fake_unipen(tmp_path / "u.npz")
    pen = tmp_path / "pen.npz"
    save_model(build_pen_model("lstm", 10, PenSpec(), seed=1), pen)
    res = three_ways(data, tmp_path / "out.json", models={"pen LSTM": pen, "pen GRU": pen})
    digits = load_unipen(data)
    held = digits.subset(writer_split(digits)[1])
    drawings = heldout_strokes(held)
    assert res["heldout"]["digits"] == len(drawings) == len(held)
    cnn = load_model(model_path("digits_cnn.npz"))
    x = np.stack([preprocess_strokes([p.astype(np.float32) for p in d]) for d in drawings])
    want = (predict_proba(cnn, x, "cnn").argmax(1) == held.labels).mean()
    row = {m["name"]: m for m in res["models"]}
    assert row["CNN"]["accuracy"] == round(float(want), 5)
    model = load_model(pen)
    spec = PenSpec.from_meta(model.meta["pen"])
    last = [model.predict(pen_features([p.astype(np.float32) for p in d], spec)[None])[0, -1]
            for d in drawings]
    probs = np.exp(log_softmax(np.array(last, np.float64)))
    assert row["pen LSTM"]["accuracy"] == round(float((probs.argmax(1) == held.labels).mean()), 5)
    assert row["pen LSTM"]["robustness"]["thicker"] == row["pen LSTM"]["accuracy"]
    assert row["CNN"]["robustness"]["reversed"] == row["CNN"]["accuracy"]
    assert row["pen LSTM"]["file"] == str(pen)
    per_digit = np.array(row["CNN"]["per_digit"])
    counts = np.bincount(held.labels, minlength=10)
    assert abs((per_digit * counts).sum() / counts.sum() - row["CNN"]["accuracy"]) < 1e-3
