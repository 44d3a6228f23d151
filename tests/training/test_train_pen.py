"""`train pen`: the UNIPEN reader, the split by writer, and a tiny seeded run that gives the
same file bit for bit (on a small synthetic file in UNIPEN's format, not the real data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.cli import main
from explorer.data.pen import PenSpec, is_pen_model, pen_features
from explorer.data.styles import Writer
from explorer.data.unipen import UnipenError, load_unipen, place_on_canvas, writer_split
from explorer.engine import load_model
from explorer.training.pen import final_probabilities


def _fake_unipen(path, writers_per_source: int = 5, per_digit: int = 2, seed: int = 0):
    """Digits by synthetic writers, stored as UNIPEN's npz (device units: 0.1 x canvas)."""
    rng = np.random.default_rng(seed)
    points, offsets, samples, labels, sources, writers = [], [0], [0], [], [], []
    for source in ("aaa", "bbb"):
        for w in range(writers_per_source):
            hand = Writer(seed * 100 + w + (50 if source == "bbb" else 0))
            for digit in range(10):
                for _ in range(per_digit):
                    for stroke in hand.sample_strokes(digit, rng):
                        points.append(np.asarray(stroke, np.float32) * 0.1)
                        offsets.append(offsets[-1] + len(stroke))
                    samples.append(len(offsets) - 1)
                    labels.append(digit)
                    sources.append(source)
                    writers.append(f"w{w}")
    np.savez(path, points=np.concatenate(points), stroke_offsets=np.array(offsets, np.int64),
             sample_strokes=np.array(samples, np.int64), labels=np.array(labels, np.uint8),
             sources=np.array(sources), writers=np.array(writers))
    return path


def test_reader_and_writer_split(tmp_path):
    data = load_unipen(_fake_unipen(tmp_path / "u.npz"))
    assert len(data) == 200 and set(data.labels.tolist()) == set(range(10))
    tr, ho = writer_split(data)
    assert len(set(tr) & set(ho)) == 0 and len(tr) + len(ho) == len(data)
    held = set(data.writers[ho].tolist())
    assert held.isdisjoint(set(data.writers[tr].tolist()))          # whole writers held out
    assert {w.split("/")[0] for w in held} == {"aaa", "bbb"}          # from every source
    assert len(held) == 2                                             # 20 % of 5 writers each
    assert np.array_equal(writer_split(data)[1], ho)                  # seeded
    # "w0" of two sources are two writers
    assert len(set(data.writers.tolist())) == 10


def test_placement_keeps_aspect_and_stays_on_the_canvas(tmp_path):
    data = load_unipen(_fake_unipen(tmp_path / "u.npz", writers_per_source=2, per_digit=1))
    rng = np.random.default_rng(0)
    for strokes in data.strokes[:20]:
        placed = place_on_canvas(strokes, rng)
        a, b = np.concatenate(strokes), np.concatenate(placed)
        assert b.min() >= -1e-9 and b.max() <= 280 + 1e-9
        ea, eb = np.ptp(a, axis=0), np.ptp(b, axis=0)
        assert 90 - 1e-6 <= eb.max() <= 240 + 1e-6
        assert np.allclose(ea / ea.max(), eb / eb.max(), atol=1e-5)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 broken", None])
def test_bad_pen_data_is_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, points=np.zeros((3, 2), np.float32))         # missing arrays
    else:
        path.write_bytes(content)
    with pytest.raises(UnipenError):
        load_unipen(path)
    code = main(["train", "pen", "--data", str(path), "--out", str(tmp_path / "m.npz"),
                 "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and not (tmp_path / "m.npz").exists()


def test_tiny_run_is_reproducible_bit_for_bit(tmp_path, capsys):
    data = _fake_unipen(tmp_path / "u.npz")
    outs = []
    for name in ("a.npz", "b.npz"):
        out = tmp_path / name
        code = main(["train", "pen", "--cell", "gru", "--hidden", "8", "--data", str(data),
                     "--epochs", "2", "--seed", "3", "--out", str(out), "--quiet"])
        assert code == 0, capsys.readouterr().err
        outs.append(out)
    summary = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    assert summary["cell"] == "gru" and summary["heldout_writers"] == 2
    # every weight bit for bit, and the same meta but for the --out path in the command
    # (the zip entries' timestamps differ, so the files' bytes are compared per array; the
    # measured train time is the one other difference)
    a, b = np.load(outs[0], allow_pickle=False), np.load(outs[1], allow_pickle=False)
    assert sorted(a.files) == sorted(b.files) and len(a.files) > 4
    for key in a.files:
        if key != "arch":
            assert a[key].tobytes() == b[key].tobytes(), key
    meta_a, meta_b = (json.loads(str(z["arch"]))["meta"] for z in (a, b))
    assert meta_a.pop("command").replace("a.npz", "b.npz") == meta_b.pop("command")
    for timing in ("train_seconds", "train_cpu_seconds"):          # wall and CPU time vary
        assert meta_a.pop(timing) >= 0 and meta_b.pop(timing) >= 0
    assert meta_a == meta_b
    model = load_model(outs[0])
    assert is_pen_model(model) and model.meta["command"].startswith("cnn-rnn-explorer train pen")
    assert [layer.type_name for layer in model.layers] == ["GRU", "Linear"]
    # the held-out figure in meta is what the code path gives for those digits
    spec = PenSpec.from_meta(model.meta["pen"])
    rows = pen_features(place_on_canvas(load_unipen(data).strokes[0], np.random.default_rng(0)), spec)
    assert final_probabilities(model, [rows]).shape == (1, 10)
    other = tmp_path / "c.npz"
    assert main(["train", "pen", "--cell", "gru", "--hidden", "8", "--data", str(data),
                 "--epochs", "2", "--seed", "4", "--out", str(other), "--quiet"]) == 0
    c = np.load(other, allow_pickle=False)
    assert c["0.weight_hh_l0"].tobytes() != a["0.weight_hh_l0"].tobytes()   # the seed matters


@pytest.mark.parametrize("argv", [
    ["train", "pen", "--early", "-1", "--out", "OUT"],
    ["train", "pen", "--early", "nan", "--out", "OUT"],
    ["train", "pen", "--hidden", "0", "--out", "OUT"],
    ["train", "pen", "--cell", "rnn", "--out", "OUT"],
    ["compare", "--task", "motif", "--data", "x.npz"],
])
def test_bad_arguments_are_one_line(tmp_path, capsys, argv):
    argv = [str(tmp_path / "m.npz") if a == "OUT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "m.npz").exists()
