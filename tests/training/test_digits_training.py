"""Digit training (issue 3) and the row-RNN (issue 7) on tiny data: seconds, numpy only."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from explorer.data.mnist import DigitData, write_idx
from explorer.engine import LSTM, Embedding, Linear, Model, load_model, save_model
from explorer.training import digits
from explorer.training.digits import NotADigitModel, build_model, digit_arch, split_digits, train_digits

META_KEYS = {"task", "arch", "data", "n_train", "n_val", "val_acc", "seed", "epochs", "command",
             "input", "classes"}


def tiny_digits(per_class: int = 4, seed: int = 0, test: bool = False) -> DigitData:
    """Ten classes of blobby 28x28 uint8 images (class = position of a bright square)."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.repeat(np.arange(10), n)
        x = rng.integers(0, 40, (len(y), 28, 28)).astype(np.uint8)
        for i, label in enumerate(y):
            r, c = 4 + 2 * (label // 5) * 5, 3 + (label % 5) * 5
            x[i, r:r + 6, c:c + 4] = 255
        return x, y.astype(np.int64)

    x, y = make(per_class)
    xt, yt = make(2) if test else (None, None)
    return DigitData(x, y, xt, yt, source=f"tiny synthetic digits ({len(y)} images)")


def run(tmp_path, name="m.npz", **kw):
    kw.setdefault("epochs", 1)
    kw.setdefault("batch_size", 16)
    kw.setdefault("progress", False)
    kw.setdefault("data", tiny_digits())
    return train_digits(tmp_path / name, **kw)


def test_writes_a_loadable_model_with_meta(tmp_path):
    summary = run(tmp_path, epochs=2)
    model = load_model(tmp_path / "m.npz")
    assert META_KEYS <= set(model.meta)
    assert model.meta["task"] == "digits" and model.meta["arch"] == "cnn"
    assert model.meta["classes"] == [str(d) for d in range(10)]
    # stratified 15 % of 4 per class -> 1 per class held out, never trained on
    assert (summary["n_train"], summary["n_val"]) == (30, 10)
    assert summary["steps"] == 2 * 2                       # ceil(30 / 16) per epoch
    assert model.meta["val_acc"] == summary["val_acc"]
    assert 0.0 <= summary["val_acc"] <= 1.0
    assert "train digits" in model.meta["command"] and "--seed 0" in model.meta["command"]
    assert model.predict(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)
    assert summary["file_bytes"] == (tmp_path / "m.npz").stat().st_size


def test_same_seed_same_model_other_seed_differs(tmp_path):
    run(tmp_path, "a.npz", seed=3)
    run(tmp_path, "b.npz", seed=3)
    run(tmp_path, "c.npz", seed=4)
    a, b, c = (load_model(tmp_path / f).state_dict() for f in ("a.npz", "b.npz", "c.npz"))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


@pytest.mark.numeric
def test_training_reduces_the_loss(tmp_path):
    val = []
    run(tmp_path, epochs=8, data=tiny_digits(per_class=10),
        callback=lambda e: e.kind == "val" and val.append(e.metrics))
    assert len(val) == 8
    # measured over seeds 0-3 (OpenBLAS Haswell and Prescott alike): loss drop 0.59-1.07, acc 0.8-1.0
    assert val[-1]["loss"] < val[0]["loss"] - 0.3 and val[-1]["acc"] >= 0.5


def test_cancel_stops_and_writes_nothing(tmp_path):
    cancel, events = threading.Event(), []

    def on_event(event):
        events.append(event.kind)
        cancel.set()

    summary = run(tmp_path, epochs=5, callback=on_event, cancel=cancel)
    assert summary["cancelled"] is True and summary["steps"] == 1
    assert events == ["step"]
    assert not (tmp_path / "m.npz").exists()


def test_row_rnn_reads_rows(tmp_path):
    summary = run(tmp_path, arch="rowrnn")
    model = load_model(tmp_path / "m.npz")
    assert summary["arch"] == model.meta["arch"] == "rowrnn"
    assert model.meta["input"].startswith("28 rows x 28 pixels")
    assert [layer.type_name for layer in model.layers] == ["LSTM", "LastStep", "Linear"]
    assert digit_arch(model) == "rowrnn"
    assert model.predict(np.zeros((3, 28, 28), np.float32)).shape == (3, 10)


def test_validation_split_is_stratified_fixed_and_disjoint():
    data = tiny_digits(per_class=20)
    x_tr, y_tr, x_va, y_va = split_digits(data)
    assert np.bincount(y_va).tolist() == [3] * 10          # 15 % of 20 per class
    assert len(x_tr) + len(x_va) == 200 and x_tr.dtype == np.float32 and x_tr.max() <= 1.0
    flat = {row.tobytes() for row in x_tr}
    assert not any(row.tobytes() in flat for row in x_va)  # no validation image is trained on
    assert np.array_equal(split_digits(data)[3], y_va)      # the same split every time


def test_parameter_counts():
    assert build_model("cnn").n_params() == 80 + 1168 + 784 * 64 + 64 + 650
    h = digits.ROW_HIDDEN
    assert build_model("rowrnn").n_params() == 4 * h * (28 + h + 2) + 10 * h + 10
    with pytest.raises(ValueError, match="unknown digit architecture"):
        build_model("mlp")


def test_full_mnist_validates_on_the_test_set(tmp_path):
    summary = run(tmp_path, data=tiny_digits(test=True))
    assert (summary["n_train"], summary["n_val"]) == (40, 20)
    assert "test set" in summary["validation"]


def test_digit_arch_rejects_other_models():
    text = Model([Embedding(30, 8), LSTM(8, 16), Linear(16, 30)], meta={"task": "text"})
    with pytest.raises(NotADigitModel, match="not a digit model"):
        digit_arch(text)
    with pytest.raises(NotADigitModel, match="not a digit model"):
        digit_arch(Model([Linear(5, 10)]))
    assert digit_arch(build_model("cnn")) == "cnn"


def test_cli_trains_from_idx_files(tmp_path, capsys):
    from explorer.cli import main
    data = tiny_digits(test=True)
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", data.x_train)
    write_idx(folder / "train-labels-idx1-ubyte", data.y_train.astype(np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", data.x_test)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", data.y_test.astype(np.uint8))
    out = tmp_path / "cli.npz"
    argv = ["train", "digits", "--out", str(out), "--mnist", str(folder), "--epochs", "1",
            "--seed", "2", "--quiet"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "IDX" in summary["data"] and summary["n_val"] == 20
    meta = load_model(out).meta
    assert meta["seed"] == 2 and meta["epochs"] == 1
    assert meta["command"] == (f"cnn-rnn-explorer train digits --out {out} --mnist {folder} "
                               "--epochs 1 --seed 2 --arch cnn")


def test_cli_missing_out_folder_is_one_line(tmp_path, capsys):
    from explorer.cli import main
    code = main(["train", "digits", "--out", str(tmp_path / "nope" / "m.npz"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "does not exist" in err


def test_progress_bar_reports_steps(tmp_path, capsys):
    run(tmp_path, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err and "acc=" in err


def test_saved_cnn_round_trips(tmp_path):
    model = build_model("cnn", seed=1)
    model.meta = {"task": "digits"}
    save_model(model, tmp_path / "x.npz")
    again = load_model(tmp_path / "x.npz")
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_stroke_rerendering_is_seeded_recorded_and_can_be_turned_off(tmp_path):
    data = tiny_digits(per_class=6)
    s_on = run(tmp_path, "on.npz", data=data, seed=5)
    run(tmp_path, "on2.npz", data=data, seed=5)
    s_off = run(tmp_path, "off.npz", data=data, seed=5, stroke_share=0.0)
    on, on2, off = (load_model(tmp_path / f) for f in ("on.npz", "on2.npz", "off.npz"))
    share = digits.STROKE_SHARE["cnn"]
    assert on.meta["stroke_share"] == share > 0 and off.meta["stroke_share"] == 0
    assert s_on["stroke_share"] == share and s_off["stroke_share"] == 0.0
    a, b, c = on.state_dict(), on2.state_dict(), off.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)          # same seed, same model
    assert not all(np.array_equal(a[k], c[k]) for k in a)      # the strokes changed training


def test_stroke_pool_is_capped_and_keeps_the_batch_share(monkeypatch):
    monkeypatch.setattr(digits, "STROKE_POOL", 10)
    x = np.zeros((40, 1, 28, 28), np.float32)
    x[:, 0, 8:20, 12:15] = 1.0
    pos, aug, share = digits._stroke_pool(x, seed=0, share=0.3, progress=False)
    assert len(aug) == 10 and (pos >= 0).sum() == 10
    assert sorted(pos[pos >= 0].tolist()) == list(range(10))
    assert share == pytest.approx(1.0)                         # 0.3 * 40 / 10, capped
    assert digits._stroke_pool(x, 0, 0.0, False)[1] is None
