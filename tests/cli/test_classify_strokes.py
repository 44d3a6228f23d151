"""`classify` on stroke files: a pen model reads the strokes in order through the live
reader's encoding; an image model reads them rendered by the canvas pipeline, so its answer
is the same bit for bit for reversed or reordered strokes; bad files give one line, exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.cli import main
from explorer.data.pen import PenSpec, PenStream, to_reference
from explorer.data.strokefile import MAX_BYTES, MAX_POINTS, MAX_STROKES
from explorer.engine import load_model, log_softmax, save_model
from explorer.paths import model_path
from explorer.training.pen import build_pen_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from strokes import all_variants  # noqa: E402

CNN = model_path("digits_cnn.npz")
VARIANTS = [v for i, v in enumerate(all_variants()) if i % 7 == 0]


@pytest.fixture(scope="module")
def pen_model_file(tmp_path_factory) -> Path:
    """A small randomly initialised pen LSTM (tests never depend on a model's accuracy)."""
    path = tmp_path_factory.mktemp("pen") / "pen_lstm.npz"
    save_model(build_pen_model("lstm", 12, PenSpec(), seed=3), path)
    return path


def _write(folder: Path, name: str, strokes, canvas: float = 280.0) -> Path:
    path = folder / name
    path.write_text(json.dumps({"canvas": canvas, "strokes": [np.asarray(s).tolist() for s in strokes]}))
    return path


def _classify(capsys, *args) -> tuple[int, list, str]:
    code = main(["classify", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else []), err


def test_image_model_reads_reversed_and_reordered_strokes_bit_for_bit(tmp_path, capsys):
    for k, v in enumerate(VARIANTS):
        strokes = [np.round(np.asarray(s, np.float64) * 1.5, 2) for s in v.strokes]   # a 420 canvas
        path = _write(tmp_path, f"d{k}.json", strokes, canvas=420)
        code, fwd, err = _classify(capsys, path, "--model", CNN)
        assert code == 0, err
        code, rev, err = _classify(capsys, path, "--model", CNN, "--reverse-strokes")
        assert code == 0, err
        assert rev[0]["probabilities"] == fwd[0]["probabilities"] and rev[0]["reversed"]
        assert fwd[0]["reads"] == "picture"
        if len(strokes) > 1:                                    # another stroke order
            perm = _write(tmp_path, f"p{k}.json", strokes[1:] + strokes[:1], canvas=420)
            assert _classify(capsys, perm, "--model", CNN)[1][0]["probabilities"] == fwd[0]["probabilities"]


def test_image_model_reads_the_strokes_as_the_canvas_does(tmp_path, capsys):
    """The stroke file's answer is the CNN on preprocess_strokes of the reference-unit strokes."""
    from explorer.data.preprocess import preprocess_strokes
    from explorer.training.digits import predict_proba

    v = VARIANTS[0]
    path = _write(tmp_path, "d.json", [np.asarray(s) * 0.5 for s in v.strokes], canvas=140)
    _, res, _ = _classify(capsys, path, "--model", CNN)
    ref = to_reference([np.asarray(s) * 0.5 for s in v.strokes], 140)
    want = predict_proba(load_model(CNN), preprocess_strokes(ref)[None], "cnn")[0]
    assert np.allclose(res[0]["probabilities"], want, atol=1e-6)


def test_pen_model_reads_the_strokes_as_the_live_reader_does(tmp_path, capsys, pen_model_file):
    """classify == stepping the recurrent layer through PenStream's rows event by event."""
    model = load_model(pen_model_file)
    rnn, head = model.layers
    spec = PenSpec.from_meta(model.meta["pen"])
    for k, v in enumerate(VARIANTS[:6]):
        path = _write(tmp_path, f"d{k}.json", v.strokes)
        code, res, err = _classify(capsys, path, "--model", pen_model_file)
        assert code == 0 and res[0]["reads"] == "pen", err
        stream, state, h = PenStream(spec), None, None
        for s in to_reference(v.strokes, 280):
            events = [stream.begin_stroke(*s[0])] + [stream.extend(x, y) for x, y in s[1:]]
            for rows in events + [stream.end_stroke()]:
                for row in rows:                           # one step per pen row, state carried
                    h, state, _ = rnn.step(row[None], state)
        live = np.exp(log_softmax(head.forward(h)[0].astype(np.float64)))[0]
        assert np.allclose(res[0]["probabilities"], live, atol=2e-6)
        # reversed strokes are another pen sequence: read from the reversed rows
        _, rev, _ = _classify(capsys, path, "--model", pen_model_file, "--reverse-strokes")
        from explorer.data.pen import pen_features
        rows = pen_features([s[::-1] for s in to_reference(v.strokes, 280)[::-1]], spec)
        want = np.exp(log_softmax(model.predict(rows[None])[0, -1].astype(np.float64)))
        assert np.allclose(rev[0]["probabilities"], want, atol=1e-6)


def test_pen_model_refuses_images(tmp_path, capsys, pen_model_file):
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    code, _, err = _classify(capsys, png, "--model", pen_model_file)
    assert code == 2 and "stroke files" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name, content, words", [
    ("damaged", '{"canvas": 280, "strokes": [[[1, 2]', "not valid JSON"),
    ("empty", '{"canvas": 280, "strokes": []}', "no strokes"),
    ("empty_strokes", '{"canvas": 280, "strokes": [[], []]}', "no strokes"),
    ("nothing", "", "not valid JSON"),
    ("nan", '{"canvas": 280, "strokes": [[[1, NaN]]]}', "NaN"),
    ("inf", '{"canvas": 280, "strokes": [[[1, Infinity]]]}', "Infinity"),
    ("huge_number", '{"canvas": 280, "strokes": [[[1e400, 2]]]}', "finite"),
    ("huge_int", '{"canvas": 280, "strokes": [[[' + "9" * 400 + ', 2]]]}', "finite"),
    ("list", "[1, 2]", "JSON object"),
    ("no_canvas", '{"strokes": [[[1, 2]]]}', "canvas"),
    ("bad_canvas", '{"canvas": "big", "strokes": [[[1, 2]]]}', "canvas"),
    ("zero_canvas", '{"canvas": 0, "strokes": [[[1, 2]]]}', "canvas"),
    ("bool_canvas", '{"canvas": true, "strokes": [[[1, 2]]]}', "canvas"),
    ("point_type", '{"canvas": 280, "strokes": [[["1", 2]]]}', "point 1"),
    ("point_len", '{"canvas": 280, "strokes": [[[1, 2, 3]]]}', "point 1"),
    ("stroke_type", '{"canvas": 280, "strokes": [5]}', "stroke 1"),
    ("strokes_type", '{"canvas": 280, "strokes": {"a": 1}}', "list of strokes"),
    ("binary", "\xff\xfe{", "not"),
    ("deep", "[" * 100_000 + "]" * 100_000, "not"),
])
def test_bad_stroke_files_give_one_line_and_exit_2(tmp_path, capsys, name, content, words):
    path = tmp_path / f"{name}.json"
    path.write_bytes(content.encode("latin-1"))
    code, out, err = _classify(capsys, path)
    assert code == 2 and out == []
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0], err


def test_too_big_stroke_files_are_refused_before_reading(tmp_path, capsys):
    many_strokes = {"canvas": 280, "strokes": [[[1, 2]]] * (MAX_STROKES + 1)}
    many_points = {"canvas": 280, "strokes": [[[1, 2]] * (MAX_POINTS // 2 + 1)] * 2}
    for name, data, words in [("s", many_strokes, "too many strokes"),
                              ("p", many_points, "too many points")]:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        code, _, err = _classify(capsys, path)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.write(b'{"canvas": 280, "strokes": [[[1, 2]]], "pad": "')
        fh.write(b"x" * (MAX_BYTES + 1))
        fh.write(b'"}')
    code, _, err = _classify(capsys, big)
    assert code == 2 and "too big" in err


def test_one_bad_file_does_not_stop_the_others(tmp_path, capsys):
    good = _write(tmp_path, "good.json", VARIANTS[0].strokes)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, res, err = _classify(capsys, good, bad)
    assert code == 2 and len(res) == 1 and res[0]["image"] == str(good)
    assert len(err.strip().splitlines()) == 1
