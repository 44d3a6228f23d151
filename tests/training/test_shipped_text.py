"""The shipped sequence models: their figures, a unit that tracks code structure, toy accuracies.

Loads the files in resources/models and re-measures on held-out data (a sample, to stay fast).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from explorer.analysis.units import best_units, code_states_and_signals, correlations
from explorer.data import tasks
from explorer.data.corpora import load_corpus, load_prose, stdlib_root
from explorer.data.vocab import Vocab
from explorer.engine import load_model
from explorer.paths import model_path, models_dir
from explorer.training.text_models import (
    TASK_DEFAULTS,
    stream_bits_per_char,
    task_accuracy,
)

TEXT_MODELS = {"code_lstm": "LSTM", "code_gru": "GRU", "code_rnn": "RNN", "prose_lstm": "LSTM"}
TARGET_BPC = {"code_lstm": 2.0, "prose_lstm": 2.6}


def _load(name: str):
    path = model_path(name + ".npz")
    assert path.is_file(), f"shipped model {path} is missing"
    return load_model(path)


@pytest.fixture(scope="module")
def heldout_code() -> list[str]:
    """The held-out standard-library files (the code corpus's validation split, never trained on)."""
    files = []
    for rel in load_corpus("code", "valid").files:
        with open(os.path.join(stdlib_root(), rel), encoding="utf-8", errors="replace") as fh:
            files.append(fh.read())
    return files


@pytest.mark.parametrize("name", sorted(TEXT_MODELS))
def test_text_model_files(name):
    model = _load(name)
    assert [layer.type_name for layer in model.layers] == ["Embedding", TEXT_MODELS[name], "Linear"]
    meta = model.meta
    assert meta["task"] == "text" and meta["corpus"] == name.split("_")[0]
    assert meta["command"].startswith("cnn-rnn-explorer train text")
    assert 0 < meta["valid_bpc"] < 8 and 0 < meta["baseline_bpc"] < 8
    if name in TARGET_BPC:
        assert meta["valid_bpc"] <= TARGET_BPC[name]
    if name == "code_lstm":
        assert meta["valid_bpc"] < meta["baseline_bpc"]


def test_code_models_are_matched():
    """The gated cells share the LSTM's width and saw the same characters; the plain RNN has the
    LSTM's parameter budget (a plain cell needs twice the width for it), the same corpus, lanes
    and chunks, and at least as many steps (its validation was still falling at the LSTM's
    5,000, so it trained longer by the same recipe)."""
    lstm, gru, rnn = (_load(n) for n in ("code_lstm", "code_gru", "code_rnn"))
    assert lstm.layers[1].hidden_size == gru.layers[1].hidden_size
    assert abs(rnn.n_params() - lstm.n_params()) < 0.05 * lstm.n_params()
    assert len({(m.meta["steps"], m.meta["batch_size"], m.meta["seq_len"], m.meta["train_chars_cap"])
                for m in (lstm, gru)}) == 1
    assert (rnn.meta["batch_size"], rnn.meta["seq_len"], rnn.meta["train_chars_cap"], rnn.meta["lr"]) == \
        (lstm.meta["batch_size"], lstm.meta["seq_len"], lstm.meta["train_chars_cap"], lstm.meta["lr"])
    assert rnn.meta["steps"] >= lstm.meta["steps"]


def test_code_lstm_on_the_heldout_files(heldout_code):
    model = _load("code_lstm")
    ids = Vocab.from_meta(model.meta["vocab"]).encode("".join(heldout_code))
    bpc, n = stream_bits_per_char(model, ids, lanes=32)
    assert n > 0.99 * len(ids)
    assert bpc <= TARGET_BPC["code_lstm"]
    # The held-out files are whatever the running Python ships, so the figure moves with the
    # Python version (3.13's files gave 1.78 against 1.72 recorded on 3.11): tight on the Python
    # the model was trained with, looser elsewhere.
    trained_on = str(model.meta.get("python", "3.11"))
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert bpc == pytest.approx(model.meta["valid_bpc"], abs=0.05 if running == trained_on else 0.12)


def test_a_code_lstm_unit_tracks_strings_or_brackets(heldout_code):
    """Some unit's state follows "inside a string" or bracket depth with |r| >= 0.6."""
    model = _load("code_lstm")
    vocab = Vocab.from_meta(model.meta["vocab"])
    states, signals = code_states_and_signals(model, heldout_code, vocab.encode)
    assert len(signals["in_string"]) > 200_000
    found = best_units(states, signals)
    best = found[0]
    print("strongest tracking units:", found)
    assert abs(best["r"]) >= 0.6, found
    # control: the same unit against the signal with its time order shuffled is no tracker
    shuffled = np.random.default_rng(0).permutation(signals[best["signal"]])
    unit = states[best["state"]][:, best["unit"]:best["unit"] + 1].astype(np.float64)
    assert abs(correlations(unit, shuffled.astype(np.float64))[0]) < 0.05


@pytest.mark.parametrize("task", sorted(tasks.TASKS))
def test_toy_models_are_small_and_accurate(task):
    model = _load(f"task_{task}")
    meta = model.meta
    assert meta["task"] == "toy" and meta["toy_task"] == task
    assert 2 <= model.layers[1].hidden_size <= 16
    assert meta["acc_train_length"] >= 0.99
    acc = task_accuracy(model, task, meta["train_length"], seed=12345, n=300)
    assert acc >= 0.99
    assert "acc_double_length" in meta and meta["hidden"] == model.layers[1].hidden_size
    assert task in TASK_DEFAULTS


def test_shipped_models_fit_the_size_budget():
    total = sum(p.stat().st_size for p in models_dir().glob("*.npz"))
    assert total < 20 * 1024 * 1024


_BASELINES: dict = {}
# The prose LSTM (trained on reflowed paragraphs) is ahead of its 5-gram on /usr/share/doc Markdown
# by 0.016 bpc and on READMEs and NEWS by 0.013 (model card); margin 0 means "ahead". It is still
# behind on package long descriptions (URLs, badges, package names: the card says so).
@pytest.mark.parametrize("name, held_out, margin", [("code_lstm", "code", 0.0), ("code_gru", "code", 0.0),
                                                    ("code_rnn", "code", 0.0),
                                                    ("prose_lstm", "prose-markdown", 0.0),
                                                    ("prose_lstm", "prose-readme", 0.0)])
def test_ahead_of_its_ngram_outside_its_sources(name, held_out, margin, tmp_path, monkeypatch):
    """On text from none of the training sources (``explorer.training.heldout``: the system
    Python's packages, /usr/share/doc's Markdown), each model reads better than the 5-gram
    fitted on its own training text."""
    from explorer.training import text as text_module
    from explorer.training.heldout import build
    from explorer.training.text import score_text_file

    real = text_module.baseline_for          # one 5-gram per corpus for the whole module

    def cached(meta):
        key = (meta.get("corpus"), meta.get("train_chars_cap"), bool(meta.get("descriptions")),
               bool(meta.get("reflow")))
        if key not in _BASELINES:
            _BASELINES[key] = real(meta)
        return _BASELINES[key]

    monkeypatch.setattr(text_module, "baseline_for", cached)

    text, files = build(held_out)
    if len(text) < 20_000:
        pytest.skip(f"this machine has too little {held_out} text outside the training sources")
    path = tmp_path / f"{held_out}.txt"
    path.write_text(text, encoding="utf-8")
    r = score_text_file(path, name)
    print(name, held_out, len(files), r["bits_per_char"], r["baseline_bits_per_char"])
    meta = load_model(model_path(f"{name}.npz")).meta
    if name == "prose_lstm":
        # the prose corpus is this Python's docs plus the docstrings of the packages installed here,
        # so on another Python or another set of packages the refitted 5-gram is fitted on another
        # text than the model's (a fresh venv of the README: 2,994,596 characters against the
        # 2,985,196 it was trained on; 5-gram 2.931 against 2.960). "Ahead of its own 5-gram" is
        # checked where the training text is rebuilt exactly; elsewhere only a bound
        own = load_prose("train", max_chars=meta.get("train_chars_cap"),
                         reflow=bool(meta.get("reflow"))).n_chars == meta.get("train_chars")
        margin = 0.0 if own else 0.03
    assert r["bits_per_char"] < r["baseline_bits_per_char"] + margin
