"""``generate`` and ``fixed-points`` end to end, in a subprocess (numpy only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.analysis.generate import generate
from explorer.data.vocab import Vocab
from explorer.engine import load_model, save_model
from explorer.training.text_models import build_sequence_model

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "explorer.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    vocab = Vocab("abc xyz\n", unknown=True)
    model = build_sequence_model(vocab.size, vocab.size, "gru", 8, 4, np.random.default_rng(0),
                                 {"task": "text", "vocab": vocab.to_meta()})
    path = tmp_path_factory.mktemp("gen") / "tiny.npz"
    save_model(model, path)
    return path


def test_generate_prints_prime_and_continuation(tiny_model):
    done = _cli("generate", "--model", str(tiny_model), "--prime", "ab c", "--chars", "30",
                "--temperature", "0.8", "--top-k", "4", "--seed", "5")
    assert done.returncode == 0, done.stderr
    out = done.stdout[:-1]
    assert out.startswith("ab c") and len(out) == 34
    model = load_model(tiny_model)
    assert out[4:] == generate(model, "ab c", 30, 0.8, 4, 5)
    again = _cli("generate", "--model", str(tiny_model), "--prime", "ab c", "--chars", "30",
                 "--temperature", "0.8", "--top-k", "4", "--seed", "5")
    assert again.stdout == done.stdout


def test_generate_clamp_and_greedy(tiny_model):
    greedy = _cli("generate", "--model", str(tiny_model), "--prime", "x", "--chars", "20",
                  "--temperature", "0", "--clamp", "2=off")
    assert greedy.returncode == 0, greedy.stderr
    assert greedy.stdout[1:-1] == generate(load_model(tiny_model), "x", 20, 0.0, clamp=(2, 0.0))


@pytest.mark.parametrize("bad", [["--clamp", "3"], ["--clamp", "99=1"], ["--temperature", "-2"]])
def test_generate_mistakes_are_one_line(tiny_model, bad):
    done = _cli("generate", "--model", str(tiny_model), "--prime", "a", "--chars", "5", *bad)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_generate_refuses_a_toy_model():
    done = _cli("generate", "--model", "task_parity", "--prime", "01", "--chars", "5")
    assert done.returncode == 2 and "cannot write" in done.stderr


def test_fixed_points_json_for_parity():
    done = _cli("fixed-points", "--model", "task_parity", "--json")
    assert done.returncode == 0, done.stderr
    points = json.loads(done.stdout)["points"]
    assert points and {p["input"] for p in points} <= {"0", "1"}
    for p in points:
        assert set(p) >= {"input", "h", "residual", "eigenvalues_abs_max", "stable"}
        assert len(p["h"]) == 2 and p["residual"] <= 1e-5
        assert p["stable"] == (p["eigenvalues_abs_max"] < 1.0)
    assert any(p["stable"] for p in points)


def test_fixed_points_refuses_a_big_model():
    done = _cli("fixed-points", "--model", "code_lstm")
    assert done.returncode == 2 and "small models" in done.stderr


def test_generate_with_a_transformer(tmp_path):
    """A char transformer writes through its stream; the same seed gives the same text; a
    clamp (a recurrent unit) is refused in one line."""
    import subprocess
    import sys

    import numpy as np

    from explorer.data.vocab import Vocab
    from explorer.engine import save_model
    from explorer.training.text_transformer import build_transformer

    vocab = Vocab.text()
    model = build_transformer(vocab.size, vocab.size, 8, 2, 1, 16, 8, np.random.default_rng(0),
                              meta={"task": "text", "vocab": vocab.to_meta()})
    path = tmp_path / "t.npz"
    save_model(model, path)

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "explorer.cli", "generate", "--model", str(path),
                               "--prime", "def ", "--chars", "20", *extra],
                              capture_output=True, text=True, timeout=120)

    a, b = run("--seed", "3"), run("--seed", "3")
    assert a.returncode == 0 and a.stdout == b.stdout and a.stdout.startswith("def ")
    assert len(a.stdout) == len("def ") + 20 + 1
    bad = run("--clamp", "3=0")
    assert bad.returncode == 2 and "transformer" in bad.stderr and "Traceback" not in bad.stderr


def test_fixed_points_of_a_transformer_is_a_clear_refusal(tmp_path):
    import subprocess
    import sys

    import numpy as np

    from explorer.engine import save_model
    from explorer.training.text_transformer import build_transformer

    path = tmp_path / "t.npz"
    save_model(build_transformer(4, 4, 8, 2, 1, 8, 8, np.random.default_rng(0), meta={"task": "toy"}), path)
    r = subprocess.run([sys.executable, "-m", "explorer.cli", "fixed-points", "--model", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no fixed points" in r.stderr and "Traceback" not in r.stderr
