"""The shipped causal char-CNNs: fields as named, LSTM-sized, and `compare --task text` on them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.engine import load_model
from explorer.paths import model_path
from explorer.training.text_cnn import receptive_field

REPO = Path(__file__).resolve().parents[2]
FIELDS = (8, 16, 32, 64)


@pytest.mark.parametrize("field", FIELDS)
def test_cnn_files(field):
    model = load_model(model_path(f"code_cnn{field}.npz"))
    lstm = load_model(model_path("code_lstm.npz"))
    assert receptive_field(model) == field == model.meta["receptive_field"]
    # CNN-8 is the LSTM's size; each wider one is its parent plus one dilated layer, so the
    # widest has about 1.44x the LSTM's parameters (model card)
    limit = 1.02 if field == 8 else 1.5
    assert 0.98 * lstm.n_params() < model.n_params() < limit * lstm.n_params()
    assert model.meta["task"] == "text-cnn" and model.meta["command"].startswith("python -m explorer.training.text_cnn")
    assert {layer.type_name for layer in model.layers} == {"Conv1d", "ReLU"}
    # the budget: never more characters seen than the LSTM's (ancestors' steps included)
    lstm_chars = lstm.meta["steps"] * lstm.meta["batch_size"] * lstm.meta["seq_len"]
    assert model.meta["chars_seen"] <= lstm_chars


@pytest.mark.parametrize("field", FIELDS[1:])
def test_each_wider_field_grew_from_the_narrower_one(field):
    """CNN-2R is CNN-R's network with one more dilated layer (dilation R), trained on from
    CNN-R's shipped weights: its shapes are the parent's plus that layer, its effort counts the
    parent's, and its validation curve continues the parent's."""
    model = load_model(model_path(f"code_cnn{field}.npz"))
    parent = load_model(model_path(f"code_cnn{field // 2}.npz"))
    grown = model.meta["grown_from"]
    assert grown["file"] == f"code_cnn{field // 2}.npz" and grown["steps"] == parent.meta["steps"]
    assert f"--grow-from resources/models/code_cnn{field // 2}.npz" in model.meta["command"]
    dil = [layer.dilation for layer in model.layers if layer.type_name == "Conv1d" and layer.kernel_size > 1]
    pdil = [layer.dilation for layer in parent.layers if layer.type_name == "Conv1d" and layer.kernel_size > 1]
    assert dil == pdil + [field // 2]
    shapes = [p.shape for p in model.state_dict().values()]
    c = model.meta["channels"]
    assert shapes == [p.shape for p in parent.state_dict().values()][:2 * len(pdil)] + [(c, c, 2), (c,)] \
        + [p.shape for p in parent.state_dict().values()][2 * len(pdil):]
    assert model.meta["steps"] == parent.meta["steps"] + model.meta["own_steps"]
    assert model.meta["valid_curve"][:len(parent.meta["valid_curve"])] == parent.meta["valid_curve"]
    assert model.meta["train_cpu_seconds"] > parent.meta["train_cpu_seconds"]
    # early stopping kept the starting point as a candidate: never worse than the parent on
    # the held-back text (the same function reads it at valid_bpc_start)
    assert model.meta["valid_bpc_stop"] <= model.meta["valid_bpc_start"]


def _shipped_compare() -> dict:
    done = subprocess.run([sys.executable, "-m", "explorer.training.compare", "--task", "text",
                           "--json", "--chars", "150000"], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compare_text_on_the_shipped_models():
    res = _shipped_compare()
    assert set(res["models"]) == {"LSTM", "CNN-8", "CNN-16", "CNN-32", "CNN-64", "Transformer"}
    for info in res["models"].values():
        assert 0.5 < info["bpc"] < 5.0 and info["params"] > 100_000
        assert info["training"]["steps"] and info["training"]["chars_seen"]
    rows = res["rows"]
    assert sum(r["n"] for r in rows) == res["held_out"]["n_closers"] > 500
    # what a field cannot see it cannot use: beyond its field no CNN beats the LSTM by more than
    # sampling noise (two standard errors: CNN-64 has only ~100 such closers in 150,000 characters,
    # and on Python 3.10's files it got 18 of 102 to the LSTM's 16), and where there are a few
    # hundred closers the LSTM is ahead
    for name in ("CNN-8", "CNN-16", "CNN-32", "CNN-64"):
        b = res["models"][name]["beyond_field"]
        p = b["rnn_accuracy"]
        assert b["n"] > 0 and b["accuracy"] <= p + 2 * math.sqrt(max(p * (1 - p), 0.01) / b["n"])
        assert b["accuracy"] < p or b["n"] < 300


def test_a_wider_field_never_reads_worse():
    """A CNN that sees more reads at least as well (within 0.03 bits per character), and the
    shipped CNNs were trained by the LSTM's rules (curve, characters seen, early stopping)."""
    for field in FIELDS:
        meta = load_model(model_path(f"code_cnn{field}.npz")).meta
        assert meta["valid_curve"] and meta["best_step"] <= meta["steps"]
        assert meta["chars_seen"] == meta["steps"] * meta["batch_size"] * meta["window"]
    res = json.loads((REPO / "resources" / "compare" / "text.json").read_text(encoding="utf-8"))
    bpc = [res["models"][f"CNN-{f}"]["bpc"] for f in FIELDS]
    assert all(b <= a + 0.03 for a, b in zip(bpc, bpc[1:])), bpc


def test_shipped_result_is_what_the_command_computes():
    """resources/compare/text.json (what the Compare lab shows) against a fresh run on its
    check subset, and its models against the shipped files."""
    from explorer.paths import resources_dir
    from explorer.training.compare_text import CHECK_CHARS, text_compare

    shipped = json.loads((resources_dir() / "compare" / "text.json").read_text(encoding="utf-8"))
    fresh = text_compare(CHECK_CHARS)
    check = shipped["check"]
    assert set(fresh["models"]) == set(check["models"])
    for name, info in fresh["models"].items():
        for key in ("params", "receptive_field", "file"):
            assert info[key] == check["models"][name][key]
        for key in ("steps", "chars_seen", "macs_per_char", "valid_curve"):
            assert info["training"][key] == shipped["models"][name]["training"][key]
    assert shipped["held_out"]["n_chars"] > check["held_out"]["n_chars"]
    assert shipped["held_out"]["source"].startswith("Python 3.")
    here = f"Python {sys.version_info[0]}.{sys.version_info[1]} "
    if not check["held_out"]["source"].startswith(here):
        # The held-out text is the running Python's own standard library, so another version's
        # figures are not comparable; on the version it names they must be the same, exactly.
        pytest.skip(f"the shipped figures were measured on {check['held_out']['source']}; "
                    f"this is {fresh['held_out']['source']}")
    assert fresh["held_out"] == check["held_out"] and fresh["rows"] == check["rows"]
    for name, info in fresh["models"].items():
        # float32 sums: 1.7e-9 bpc apart between a subprocess and pytest here; the lab prints 0.001
        assert info["bpc"] == pytest.approx(check["models"][name]["bpc"], abs=1e-6)
        assert info["beyond_field"] == check["models"][name].get("beyond_field") if "beyond_field" in info else True
        assert info["closer_accuracy"] == check["models"][name]["closer_accuracy"]
