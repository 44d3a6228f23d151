"""`cnn-rnn-explorer classify` in a subprocess, on image files written with Qt (issue 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.data.preprocess import render_strokes
from explorer.engine import LSTM, Embedding, Linear, Model, save_model
from explorer.paths import model_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from strokes import variants  # noqa: E402

pytest.importorskip("PySide6.QtGui")
from explorer.imageio import ImageError, read_image, write_gray_png  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = model_path("digits_cnn.npz")
needs_model = pytest.mark.skipif(not SHIPPED.exists(), reason="shipped digit model not built")


def classify(*args: str | Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "explorer.cli", "classify", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def digit_file(folder: Path, digit: int, suffix: str = ".png", dark_on_light: bool = True) -> Path:
    """A stroke digit rendered at 280x280 (black pen on white paper by default), saved by Qt."""
    v = next(variants(digit))
    ink = render_strokes(v.strokes, 280, v.pen_width, supersample=2)
    path = folder / f"digit{digit}{suffix}"
    write_gray_png(path, 1.0 - ink if dark_on_light else ink)
    return path


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("cnn-rnn-explorer classify: error: ")
    return lines[0]


@needs_model
def test_labels_and_json(tmp_path):
    files = [digit_file(tmp_path, 3), digit_file(tmp_path, 7, ".jpg"),
             digit_file(tmp_path, 4, ".bmp", dark_on_light=False)]
    proc = classify(*files, "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["label"] for r in results] == [3, 7, 4]
    assert [r["image"] for r in results] == [str(f) for f in files]
    for r in results:
        assert len(r["probabilities"]) == 10
        assert abs(sum(r["probabilities"]) - 1.0) < 1e-4
        assert int(np.argmax(r["probabilities"])) == r["label"]


@needs_model
def test_text_table(tmp_path):
    proc = classify(digit_file(tmp_path, 2))
    assert proc.returncode == 0, proc.stderr
    head, row = proc.stdout.strip().splitlines()
    assert "label" in head and "P(9)" in head
    fields = row.split()
    assert fields[1] == "2" and len(fields) == 12


@needs_model
def test_bad_and_blank_files_are_one_line_each(tmp_path):
    good = digit_file(tmp_path, 1)
    blank = tmp_path / "blank.png"
    write_gray_png(blank, np.full((60, 60), 255, np.uint8))
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture\n")
    empty = tmp_path / "empty.bmp"
    empty.write_bytes(b"")
    for bad, what in ((blank, "no ink"), (fake, "not an image"), (empty, "empty"),
                      (tmp_path / "missing.png", "no such file")):
        line = one_error_line(classify(bad))
        assert str(bad) in line and what in line
    # a bad file among good ones: the good one is still classified, exit status 2
    proc = classify(good, blank, "--json")
    assert proc.returncode == 2 and "no ink" in proc.stderr
    assert [r["label"] for r in json.loads(proc.stdout)] == [1]


def test_models_that_are_not_digit_models(tmp_path):
    image = digit_file(tmp_path, 5)
    text = tmp_path / "text.npz"
    save_model(Model([Embedding(30, 8), LSTM(8, 16), Linear(16, 30)], meta={"task": "text"}), text)
    wrong = tmp_path / "wrong.npz"
    save_model(Model([Linear(5, 10)]), wrong)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    for model, what in ((text, "is not a digit model"), (wrong, "is not a digit model"),
                        (junk, str(junk))):
        line = one_error_line(classify(image, "--model", model))
        assert what in line


def test_read_image_in_process(tmp_path):
    path = tmp_path / "g.png"
    gray = np.zeros((30, 50), np.uint8)
    gray[10:20, 5:40] = 200
    write_gray_png(path, gray)
    rgba = read_image(path)
    assert rgba.shape == (30, 50, 4) and rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba[..., 0], gray)
    assert (rgba[..., 3] == 255).all()
    big = tmp_path / "big.png"
    write_gray_png(big, np.zeros((300, 3000), np.uint8))
    assert read_image(big, max_side=600).shape == (60, 600, 4)
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "nothing.png")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)
