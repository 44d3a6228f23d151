"""Hostile model files: every one is refused with ModelFileError before anything big is
allocated; old files with Python-repr meta still load (nothing in them is executed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import hostile_inputs as hostile  # noqa: E402

from explorer.engine import LAYER_TYPES, Linear, Model, ModelFileError, load_model, save_model  # noqa: E402
from explorer.engine import io as model_io  # noqa: E402
from explorer.paths import models_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


# this process's own peak: ru_maxrss would also count the parent's RSS at fork
HWM = ("def hwm_kb():\n"
       "    with open('/proc/self/status') as fh:\n"
       "        return next(int(l.split()[1]) for l in fh if l.startswith('VmHWM:'))\n")


def _refused(path: Path, pattern: str) -> str:
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


@pytest.mark.parametrize(("n", "why"), [(10000, "100,010,000 parameters"),
                                        (7000, "parameter.s. missing: 0.weight, 0.bias")])
def test_linear_bomb_is_refused_in_little_memory(tmp_path, n, why):
    """A < 1 KB file declaring Linear(n, n) and holding no weights: refused using < 50 MB
    (measured in a fresh process as the growth of its peak resident size; the time is only
    printed). 10000: over the per-layer limit; 7000 (196 MB of weights): within the limits,
    but the missing weights are found before any layer is built."""
    path = hostile.write_linear_bomb(tmp_path, n)
    assert path.stat().st_size < 1024
    script = (
        "import sys, time\n"
        f"{HWM}"
        "from explorer.engine import ModelFileError, load_model\n"
        "before = hwm_kb()\n"
        "t = time.perf_counter()\n"
        "try:\n"
        "    load_model(sys.argv[1]); print('LOADED')\n"
        "except ModelFileError as exc:\n"
        "    print('REFUSED', exc)\n"
        "dt = time.perf_counter() - t\n"
        "print('KB', hwm_kb() - before)\n"
        "print('SECONDS', dt)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert "REFUSED" in lines and re.search(why, lines["REFUSED"]), done.stdout
    grown_mb = int(lines["KB"]) / 1024
    print(f"Linear({n}, {n}) bomb refused in {float(lines['SECONDS']) * 1000:.1f} ms, "
          f"peak memory grew {grown_mb:.1f} MB")
    assert grown_mb < 50


def test_hundred_thousand_nested_brackets_is_a_model_file_error(tmp_path):
    message = _refused(hostile.write_deep_brackets(tmp_path), "nests brackets 100,000 deep")
    assert "Recursion" not in message


def test_deeply_nested_meta_is_refused(tmp_path):
    _refused(hostile.write_deep_object(tmp_path), "nests brackets 5,00[0-9] deep")


def test_brackets_inside_strings_do_not_count(tmp_path):
    model = Model([Linear(3, 2, rng=np.random.default_rng(0))],
                  meta={"description": "[[[[[[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{{{ \" [[[["})
    save_model(model, tmp_path / "ok.npz")
    assert load_model(tmp_path / "ok.npz").meta["description"] == model.meta["description"]
    assert model_io.json_depth('{"a": "[[[[\\"{{", "b": [[1]]}') == 3


def test_huge_integer_is_refused(tmp_path):
    _refused(hostile.write_huge_integer(tmp_path), "not usable JSON|positive int")


def test_too_many_layers(tmp_path):
    _refused(hostile.write_many_layers(tmp_path), "5,000 layers, more than the 256 allowed")


def test_one_layer_over_fifty_million_parameters(tmp_path):
    _refused(hostile.write_big_layer(tmp_path), r"layer 0 \(Embedding\) would have 60,000,000")


def test_total_parameters_over_the_limit(tmp_path):
    _refused(hostile.write_big_total(tmp_path), "120,000,000 parameters, more than the 100,000,000")


def test_entry_header_claiming_more_than_it_holds(tmp_path):
    _refused(hostile.write_lying_header(tmp_path), "'0.weight' is damaged or truncated")


@pytest.mark.parametrize("value", [True, -3, 0, "784", 2.5, [1, 2]])
def test_bad_layer_settings(tmp_path, value):
    _refused(hostile.write_bad_config(tmp_path, value), "in_features must be a positive int")


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "huge.npz"
    with open(path, "wb") as fh:           # sparse: takes no disk space
        fh.truncate(model_io.MAX_FILE_BYTES + 1)
    _refused(path, "more than a model file may be")


def test_entries_unpacking_beyond_the_limit(tmp_path, monkeypatch):
    """A compressed archive whose entries unpack to more than the limit (the limit is
    lowered here so the test stays small; the check is the same)."""
    monkeypatch.setattr(model_io, "MAX_FILE_BYTES", 1 << 20)
    path = tmp_path / "zipbomb.npz"
    np.savez_compressed(path, arch=np.array("{}"), big=np.zeros(1 << 19, np.float32))
    assert path.stat().st_size < 1 << 16
    _refused(path, "unpacks to 2 MB")


def test_garbage_and_truncated_files(tmp_path):
    _refused(hostile.write_garbage(tmp_path / "garbage.npz"), "not a model file")
    good = tmp_path / "good.npz"
    save_model(Model([Linear(30, 20, rng=np.random.default_rng(0))]), good)
    raw = good.read_bytes()
    for cut in (len(raw) // 3, len(raw) - 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(raw[:cut])
        _refused(bad, "damaged|truncated|not a model file")


def test_the_shape_table_matches_every_layer_class():
    """io computes parameter shapes from arch without building layers; it must agree with
    what each layer class builds (a new layer type with parameters fails here)."""
    rng = np.random.default_rng(0)
    configs = {
        "Linear": [{"in_features": 3, "out_features": 2}, {"in_features": 3, "out_features": 2,
                                                          "bias": False}],
        "Conv2d": [{"in_channels": 2, "out_channels": 3, "kernel_size": [3, 2]},
                   {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "bias": False}],
        "Conv1d": [{"in_channels": 2, "out_channels": 3, "kernel_size": 4}],
        "Embedding": [{"num_embeddings": 5, "embedding_dim": 4}],
        **{k: [{"input_size": 3, "hidden_size": 4}, {"input_size": 3, "hidden_size": 4,
                                                     "bias": False}] for k in ("RNN", "LSTM", "GRU")},
        "LayerNorm": [{"normalized_shape": [5]}, {"normalized_shape": 5, "bias": False},
                      {"normalized_shape": [5], "elementwise_affine": False}],
        "LearnedPositions": [{"max_len": 7, "d_model": 4}],
        "TransformerEncoderLayer": [{"d_model": 8, "nhead": 2, "dim_feedforward": 12},
                                    {"d_model": 6, "nhead": 3}],
    }
    for kind, cls in LAYER_TYPES.items():
        for cfg in configs.get(kind, [{}]):
            try:
                extra = {"rng": rng} if kind in configs and kind != "LayerNorm" else {}
                layer = cls.from_config(**cfg, **extra)
            except TypeError:
                layer = cls.from_config(kernel_size=2)          # pools need a size
            built = {k: v.shape for k, v in layer.params.items()}
            assert model_io.expected_shapes(
                {**hostile.FORMAT, "layers": [{"type": kind, **cfg}]})[0] == built, kind


def test_meta_is_saved_as_plain_json(tmp_path):
    model = Model([Linear(3, 2, rng=np.random.default_rng(0))],
                  meta={"hidden": np.int64(192), "val_acc": np.float32(0.5), "bad": float("nan"),
                        "shape": (1, 28, 28), "vocab": {"kind": "chars", "chars": "ab",
                                                        "unknown": False}})
    save_model(model, tmp_path / "m.npz")
    arch = json.loads(str(np.load(tmp_path / "m.npz")["arch"]))
    assert arch["meta"] == {"hidden": 192, "val_acc": 0.5, "bad": None, "shape": [1, 28, 28],
                            "vocab": {"kind": "chars", "chars": "ab", "unknown": False}}
    with pytest.raises(TypeError, match="meta.obj"):
        save_model(Model([Linear(3, 2)], meta={"obj": object()}), tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_legacy_repr_meta_is_read_as_json_values_and_never_executed(tmp_path, capfd):
    model = load_model(hostile.write_legacy_meta(tmp_path))
    meta = model.meta
    assert meta["hidden"] == 3 and meta["embed"] == 2 and meta["val_acc"] == 0.5
    assert meta["cancelled"] is False and meta["classes"] == ["0", "1"]
    assert meta["vocab"] == {"kind": "chars", "chars": "()", "unknown": False}
    assert meta["alphabet"] == "()" and meta["description"] == "[1, 2]"   # strings stay strings
    assert meta["seed"] == "__import__('os').system('echo executed')"
    assert "executed" not in capfd.readouterr().out
    from explorer.session.sequence import SequenceSession  # a consumer of meta still works
    session = SequenceSession(model, name="legacy")
    assert session.task == "depth"


def test_every_shipped_model_still_loads_with_json_meta():
    files = sorted(models_dir().glob("*.npz"))
    assert len(files) >= 5
    for path in files:
        model = load_model(path)
        assert isinstance(model.meta, dict) and model.meta.get("task") in ("digits", "text", "text-cnn", "toy")
        for key in ("hidden", "embed", "seed", "steps", "epochs", "n_train"):
            assert not isinstance(model.meta.get(key), str), (path.name, key)
        if "vocab" in model.meta:
            assert isinstance(model.meta["vocab"], dict)
