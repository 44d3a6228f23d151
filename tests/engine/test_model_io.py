"""Model (forward/backward/trace/state dict/arch) and model files (round trip, every bad file)."""

import json
import zipfile

import numpy as np
import pytest

from explorer.engine import (
    LSTM,
    Conv1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    GlobalMaxPool1d,
    Linear,
    MaxPool2d,
    Model,
    ModelFileError,
    ReLU,
    Tanh,
    cross_entropy,
    load_model,
    save_model,
)
from explorer.engine.gradcheck import model_errors


def small_cnn(seed=0):
    rng = np.random.default_rng(seed)
    return Model([Conv2d(1, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                  Conv2d(3, 4, 3, stride=2, rng=rng), Tanh(), Flatten(), Linear(4, 3, rng=rng)],
                 meta={"task": "test"})


def digit_cnn(seed=0):
    rng = np.random.default_rng(seed)
    return Model([Conv2d(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                  Conv2d(8, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                  Linear(784, 64, rng=rng), ReLU(), Linear(64, 10, rng=rng)])


def test_model_gradient_check_small_cnn_with_cross_entropy():
    model = small_cnn().astype(np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 1, 6, 6))
    t = np.array([0, 2])
    errors = model_errors(model, x, lambda out: cross_entropy(out, t), n_checks=8)
    assert set(errors) == {"input", *model.parameters()}
    assert max(errors.values()) < 1e-6, errors


def test_state_dict_names_and_in_place_loading():
    model = digit_cnn()
    keys = list(model.state_dict())
    assert keys == ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias",
                    "9.weight", "9.bias"]
    live = model.parameters()["0.weight"]
    other = digit_cnn(seed=5).state_dict()
    model.load_state_dict(other)
    assert model.parameters()["0.weight"] is live                  # optimisers stay attached
    np.testing.assert_array_equal(live, other["0.weight"])
    with pytest.raises(KeyError, match="missing"):
        model.load_state_dict({k: v for k, v in other.items() if k != "9.bias"})
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict({**other, "9.bias": np.zeros(11)})
    assert model.n_params() == 8 * 9 + 8 + 16 * 72 + 16 + 784 * 64 + 64 + 64 * 10 + 10


def test_predict_equals_forward_and_backward_needs_forward():
    model = digit_cnn()
    x = np.random.default_rng(2).standard_normal((3, 1, 28, 28)).astype(np.float32)
    with pytest.raises(RuntimeError):
        Model([Linear(2, 2)]).backward(np.zeros((1, 2)))
    np.testing.assert_allclose(model.predict(x), model.forward(x), rtol=1e-6, atol=1e-6)
    assert model.predict(x).dtype == np.float32
    dx = model.backward(np.ones((3, 10), np.float32))
    assert dx.shape == x.shape


def test_trace_outputs_names_probs_and_winners():
    model = digit_cnn()
    x = np.random.default_rng(3).standard_normal((1, 1, 28, 28)).astype(np.float32)
    tr = model.trace(x)
    assert tr.names[0] == "0 · Conv2d" and tr.names[-1] == "9 · Linear"
    assert [o.shape for o in tr.outputs][:3] == [(1, 8, 28, 28), (1, 8, 28, 28), (1, 8, 14, 14)]
    np.testing.assert_allclose(tr.outputs[-1], model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(tr.probs.sum(axis=-1), 1.0, rtol=1e-6)
    assert set(tr.extras) == {2, 5}
    win = tr.extras[2]["winner"]
    assert win.shape == (1, 8, 14, 14)
    # the winner indexes the pooled layer's input plane and holds the pooled value
    plane = tr.outputs[1].reshape(1, 8, -1)
    np.testing.assert_array_equal(np.take_along_axis(plane, win.reshape(1, 8, -1), 2),
                                  tr.outputs[2].reshape(1, 8, -1))


def test_trace_records_lstm_gates():
    rng = np.random.default_rng(4)
    model = Model([Embedding(7, 4, rng=rng), LSTM(4, 5), Linear(5, 7, rng=rng)])
    tr = model.trace(np.array([[1, 2, 3, 0, 6]]))
    assert set(tr.extras) == {1}
    assert set(tr.extras[1]) >= {"i", "f", "g", "o", "c"}
    assert all(g.shape == (1, 5, 5) for g in tr.extras[1].values())
    assert tr.outputs[1].shape == (1, 5, 5) and tr.probs.shape == (1, 5, 7)


def test_arch_round_trip_and_summary():
    model = small_cnn()
    arch = model.arch()
    assert arch["format"] == "cnn-rnn-explorer/model" and arch["version"] == 1
    assert arch["layers"][0] == {"type": "Conv2d", "in_channels": 1, "out_channels": 3,
                                 "kernel_size": 3, "stride": 1, "padding": 1, "bias": True}
    assert arch["meta"] == {"task": "test"}
    again = Model.from_arch(json.loads(json.dumps(arch)))
    assert again.arch() == arch
    rows = model.layer_table((1, 1, 6, 6))
    assert [r["output_shape"] for r in rows][-1] == (1, 3)
    assert rows[0]["n_params"] == 3 * 9 + 3
    text = model.summary((1, 1, 6, 6))
    assert "Conv2d" in text and f"{model.n_params():,}" in text
    with pytest.raises(ValueError, match="unknown type"):
        Model.from_arch({**arch, "layers": [{"type": "Conv3d"}]})
    with pytest.raises(ValueError, match="unknown setting"):
        Model.from_arch({**arch, "layers": [{"type": "ReLU", "inplace": True}]})


# -- model files ---------------------------------------------------------------------
def every_kind_model():
    rng = np.random.default_rng(6)
    return Model([Embedding(9, 4, rng=rng), Dropout(0.1), Tanh(), Linear(4, 6, rng=rng),
                  LSTM(6, 3), Flatten()]), Model([Conv1d(2, 3, 3, rng=rng), GlobalMaxPool1d()])


def test_save_load_round_trip(tmp_path):
    model = digit_cnn()
    path = tmp_path / "digits.npz"
    save_model(model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["digits.npz"]          # no temp file left
    loaded = load_model(path)
    assert loaded.arch() == model.arch()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k], v)
    x = np.random.default_rng(7).standard_normal((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for m in every_kind_model():
        save_model(m, tmp_path / "m.npz")
        assert load_model(tmp_path / "m.npz").arch() == m.arch()


def _write(path, arrays):
    np.savez(path, **arrays)
    return path


def _good_arrays():
    model = small_cnn()
    return {"arch": np.array(json.dumps(model.arch())), **model.state_dict()}


def _bad_files(tmp_path):
    good = _good_arrays()
    arch = json.loads(str(good["arch"]))
    unknown = {**arch, "layers": [{"type": "Conv3d", "in_channels": 1}]}
    full = tmp_path / "full.npz"
    _write(full, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    (tmp_path / "text.npz").write_text("hello, not a model")
    with zipfile.ZipFile(tmp_path / "empty.npz", "w"):
        pass
    return {
        "truncated": (truncated, "damaged|truncated"),
        "not an npz": (tmp_path / "text.npz", "not a model file"),
        "missing file": (tmp_path / "nothing.npz", "no such file"),
        "no arch": (tmp_path / "empty.npz", "arch"),
        "pickled object": (_write(tmp_path / "pickle.npz",
                                  {**good, "0.weight": np.array([{"x": 1}], dtype=object)}),
                           "pickled"),
        "bad json": (_write(tmp_path / "json.npz", {**good, "arch": np.array("{not json")}),
                     "not valid JSON"),
        "wrong format": (_write(tmp_path / "fmt.npz",
                                {**good, "arch": np.array(json.dumps({**arch, "format": "x"}))}),
                         "format"),
        "wrong version": (_write(tmp_path / "ver.npz",
                                 {**good, "arch": np.array(json.dumps({**arch, "version": 9}))}),
                          "version"),
        "unknown layer": (_write(tmp_path / "unknown.npz",
                                 {"arch": np.array(json.dumps(unknown))}), "unknown type 'Conv3d'"),
        "wrong shape": (_write(tmp_path / "shape.npz", {**good, "0.weight": np.zeros((3, 1, 5, 5))}),
                        r"'0.weight' has shape \(3, 1, 5, 5\), expected \(3, 1, 3, 3\)"),
        "nan": (_write(tmp_path / "nan.npz", {**good, "6.bias": np.array([0, np.nan, 0])}),
                "NaN"),
        "missing param": (_write(tmp_path / "missing.npz",
                                 {k: v for k, v in good.items() if k != "3.bias"}),
                          "missing: 3.bias"),
        "extra key": (_write(tmp_path / "extra.npz", {**good, "7.weight": np.zeros(3)}),
                      "unknown entry: 7.weight"),
        "integer params": (_write(tmp_path / "int.npz",
                                  {**good, "6.bias": np.array([1, 2, 3])}), "floating point"),
    }


@pytest.mark.parametrize("case", ["truncated", "not an npz", "missing file", "no arch",
                                  "pickled object", "bad json", "wrong format", "wrong version",
                                  "unknown layer", "wrong shape", "nan", "missing param",
                                  "extra key", "integer params"])
def test_bad_model_files_raise_model_file_error(tmp_path, case):
    path, pattern = _bad_files(tmp_path)[case]
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: ")


def test_good_file_written_by_numpy_loads(tmp_path):
    path = _write(tmp_path / "ok.npz", _good_arrays())
    assert load_model(path).n_params() == small_cnn().n_params()


def test_pickled_arch_is_never_executed(tmp_path):
    called = []

    class Boom:
        def __reduce__(self):
            return (called.append, ("executed",))

    raw = np.empty(1, dtype=object)
    raw[0] = Boom()
    path = tmp_path / "evil.npz"
    np.savez(path, arch=raw, allow_pickle=True)
    with pytest.raises(ModelFileError, match="pickled"):
        load_model(path)
    assert called == []


def test_saved_model_gets_the_usual_file_permissions(tmp_path):
    import os
    import stat

    from explorer.engine import Linear, Model, save_model
    path = tmp_path / "m.npz"
    old = os.umask(0o022)
    try:
        save_model(Model([Linear(2, 2)]), path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
