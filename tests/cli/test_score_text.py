"""``cnn-rnn-explorer score-text`` end to end, in a subprocess (numpy only, no Qt)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, train_tiny_text):
    corpus = "".join(f"def g{i % 4}(y):\n    return [y, {i % 6}]\n" for i in range(300))
    return train_tiny_text(tmp_path_factory.mktemp("score"), corpus, "gru", 10, 5)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "explorer.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_score_text_json(tiny_model, tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def g1(y):\n    return [y, 3]\n" * 10)
    done = _cli("score-text", str(sample), "--model", str(tiny_model), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"] == "tiny_gru"
    assert result["n_chars"] == len(sample.read_text())
    assert 0 < result["bits_per_char"] < 8 and 0 < result["baseline_bits_per_char"] < 8
    assert math.isfinite(result["bits_per_char"])


def test_score_text_plain_line(tiny_model, tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("return [y, 1]\n")
    done = _cli("score-text", str(sample), "--model", str(tiny_model))
    assert done.returncode == 0, done.stderr
    assert "bits/char" in done.stdout and "n-gram baseline" in done.stdout


def test_score_text_errors_are_one_line(tiny_model, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    done = _cli("score-text", str(empty), "--model", str(tiny_model))
    assert done.returncode == 2
    assert "is empty" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = _cli("score-text", str(empty), "--model", "not_a_model")
    assert done.returncode == 2 and "not_a_model" in done.stderr and "Traceback" not in done.stderr
