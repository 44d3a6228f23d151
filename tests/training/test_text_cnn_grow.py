"""Growing a char-CNN: one more dilated layer doubles the field and starts as exactly the
narrower network's function; training from there keeps the starting point as a candidate."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.engine import save_model
from explorer.training.text_cnn import (
    build_char_cnn,
    grow_char_cnn,
    receptive_field,
    stream_logprobs,
    train_char_cnn,
)
from explorer.training.text_models import TrainingError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_recipes_reproducible import _same_files  # noqa: E402


def _trained_parent(rng: np.random.Generator, field: int = 4):
    """A parent whose ReLU outputs are far from all zero (random weights, biases too)."""
    model = build_char_cnn(98, field, 6, rng, init="he").astype(np.float64)
    for layer in model.layers:
        if "bias" in layer.params:
            layer.params["bias"] = rng.normal(0.0, 0.3, layer.params["bias"].shape)
    return model


def test_a_grown_cnn_starts_as_exactly_its_parent():
    rng = np.random.default_rng(0)
    parent = _trained_parent(rng)
    grown = grow_char_cnn(parent)
    assert receptive_field(grown) == 8 and receptive_field(parent) == 4
    assert grown.n_params() == parent.n_params() + 6 * 6 * 2 + 6
    ids = rng.integers(1, 98, size=400)
    np.testing.assert_allclose(stream_logprobs(grown, ids), stream_logprobs(parent, ids), rtol=0, atol=1e-12)
    # the parent is untouched, and the grown copy shares no arrays with it
    grown.layers[0].params["weight"] += 1.0
    assert not np.allclose(stream_logprobs(grown, ids), stream_logprobs(parent, ids))


def test_the_new_layer_sees_further_once_its_older_tap_is_not_zero():
    """Negative control: with the new layer's older tap non-zero, characters 5-8 back matter."""
    rng = np.random.default_rng(1)
    grown = grow_char_cnn(_trained_parent(rng))
    ids = rng.integers(1, 98, size=300)
    p, far = 200, ids.copy()
    far[p - 7] = far[p - 7] % 97 + 1                      # 7 back: outside the parent's field of 4
    assert np.allclose(stream_logprobs(grown, far)[p - 1], stream_logprobs(grown, ids)[p - 1])
    new = next(layer for layer in grown.layers if getattr(layer, "dilation", 1) == 4)
    new.params["weight"][:, :, 0] = rng.normal(0.0, 0.5, new.params["weight"].shape[:2])
    assert not np.allclose(stream_logprobs(grown, far)[p - 1], stream_logprobs(grown, ids)[p - 1])


def _parent_file(tmp_path):
    model, _ = train_char_cnn(4, steps=40, batch=4, length=32, train_chars=80_000, channels=8, seed=1,
                              lr=0.03, progress=False, eval_every=20, init="he")
    save_model(model, tmp_path / "p.npz")
    return model


def test_growing_never_ends_worse_than_the_parent(tmp_path):
    """A rate far too high only makes validation worse: the kept weights are the starting point,
    the parent's function, and the effort counts the parent's steps too."""
    parent = _parent_file(tmp_path)
    model, s = train_char_cnn(8, steps=10, batch=4, length=32, train_chars=80_000, lr=50.0, seed=1,
                              progress=False, eval_every=5, patience=1, grow_from=parent, grow_file="p.npz")
    assert s["best_step"] == parent.meta["steps"] == 40
    # the same function on the same held-back text, its windows a field's width later
    assert s["valid_bpc_stop"] == s["valid_bpc_start"] == pytest.approx(parent.meta["valid_bpc_stop"], abs=0.01)
    assert s["valid_curve"][:len(parent.meta["valid_curve"])] == parent.meta["valid_curve"]
    assert s["valid_curve"][-1][0] == s["steps"] == 40 + s["own_steps"]
    assert s["chars_seen"] == s["steps"] * 4 * 32
    assert s["train_cpu_seconds"] >= parent.meta["train_cpu_seconds"]
    assert s["grown_from"]["file"] == "p.npz" and s["receptive_field"] == 8
    ids = np.random.default_rng(2).integers(1, 98, size=200)
    np.testing.assert_allclose(stream_logprobs(model, ids), stream_logprobs(parent, ids), atol=1e-5)


def test_growing_is_reproducible(tmp_path):
    parent = _parent_file(tmp_path)
    files = []
    for run in range(2):
        model, s = train_char_cnn(8, steps=8, batch=4, length=32, train_chars=80_000, lr=1e-2, seed=1,
                                  progress=False, eval_every=4, grow_from=parent, grow_file="p.npz")
        assert s["steps"] == 48
        files.append(tmp_path / f"g{run}.npz")
        save_model(model, files[-1])
    _same_files(*files)


def test_growing_needs_half_the_field_and_the_same_windows(tmp_path):
    parent = _parent_file(tmp_path)
    with pytest.raises(TrainingError, match="grows from one of 8"):
        train_char_cnn(16, steps=2, batch=4, length=32, train_chars=80_000, progress=False, grow_from=parent)
    with pytest.raises(TrainingError, match="same"):
        train_char_cnn(8, steps=2, batch=8, length=32, train_chars=80_000, progress=False, grow_from=parent)


def test_the_command_says_what_is_wrong_and_writes_nothing(tmp_path, capsys):
    from explorer.training.text_cnn import main

    out = tmp_path / "out.npz"
    with pytest.raises(SystemExit):
        main(["--field", "16", "--grow-from", str(tmp_path / "missing.npz"), "--out", str(out), "--quiet"])
    assert "cannot read --grow-from" in capsys.readouterr().err and not out.exists()
    _parent_file(tmp_path)                                         # field 4: CNN-16 cannot grow from it
    with pytest.raises(SystemExit):
        main(["--field", "16", "--grow-from", str(tmp_path / "p.npz"), "--out", str(out), "--quiet",
              "--train-chars", "80000", "--batch", "4", "--window", "32"])
    assert "grows from one of 8" in capsys.readouterr().err and not out.exists()
