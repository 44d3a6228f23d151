"""Every command-line mistake: exit 2, exactly one line on stderr, no traceback, and found
before any work (no output file, no progress bar). JSON output is strict JSON."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import hostile_inputs as hostile  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "explorer.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _strict_json(text: str):
    def refuse(name: str):
        raise AssertionError(f"bare {name} in JSON output")
    return json.loads(text, parse_constant=refuse)


def _one_line_mistake(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    err = done.stderr
    assert done.returncode == 2, (done.returncode, err)
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "usage:" not in err
    assert done.stdout == ""                       # no JSON summary: nothing was trained
    assert "%" not in err and "it/s" not in err    # no progress bar was drawn
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def read_only_folder(tmp_path):
    if os.geteuid() == 0:                  # root writes through chmod; /sys takes no new file
        yield Path("/sys")
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield folder
    folder.chmod(stat.S_IRWXU)


OUT_KINDS = [["digits"], ["text", "--corpus", "prose"], ["task", "--task", "parity"]]


@pytest.mark.parametrize("kind", OUT_KINDS, ids=lambda k: k[0])
def test_out_in_a_missing_folder(tmp_path, kind):
    out = tmp_path / "nope" / "m.npz"
    _one_line_mistake(_cli("train", *kind, "--out", str(out)), "does not exist", str(out.parent))
    assert not out.parent.exists()


@pytest.mark.parametrize("kind", OUT_KINDS, ids=lambda k: k[0])
def test_out_whose_parent_is_a_file(tmp_path, kind):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "m.npz"
    _one_line_mistake(_cli("train", *kind, "--out", str(out)), "is a file, not a folder")


@pytest.mark.parametrize("kind", OUT_KINDS, ids=lambda k: k[0])
def test_out_in_a_read_only_folder(read_only_folder, kind):
    out = read_only_folder / "m.npz"
    _one_line_mistake(_cli("train", *kind, "--out", str(out)), "cannot write to the folder")
    assert not out.exists()


def test_out_that_is_a_folder(tmp_path):
    _one_line_mistake(_cli("train", "digits", "--out", str(tmp_path)), "is a folder")


@pytest.mark.parametrize(("args", "needle"), [
    (["text", "--steps", "-3"], "--steps: must be between 1 and"),
    (["text", "--steps", "0"], "--steps: must be between 1 and"),
    (["text", "--hidden", "0"], "--hidden: must be between 1 and 4,096, got 0"),
    (["text", "--hidden", "-5"], "--hidden: must be between 1 and 4,096, got -5"),
    (["text", "--hidden", "lots"], "--hidden: expected a whole number, got 'lots'"),
    (["text", "--seed", "-1"], "--seed: must be at least 0"),
    (["text", "--dropout", "1.5"], "--dropout: must be between 0.0 and 0.9, got 1.5"),
    (["text", "--dropout", "nan"], "--dropout: must be between 0.0 and 0.9, got nan"),
    (["text", "--dropout", "some"], "--dropout: expected a number, got 'some'"),
    (["text", "--train-chars", "10"], "--train-chars: must be between 1000 and"),
    (["digits", "--epochs", "0"], "--epochs: must be between 1 and"),
    (["digits", "--epochs", "2.5"], "--epochs: expected a whole number"),
    (["task", "--task", "parity", "--length", "1"], "--length: must be between 2 and"),
    (["task", "--task", "parity", "--hidden", "-2"], "--hidden: must be between 1"),
    (["task", "--task", "no-such-task"], "no-such-task"),
    (["text", "--corpus", "/no/such/corpus.txt", "--steps", "1"], "unknown corpus"),
    (["text", "--corpus", "code", "--descriptions", "--steps", "1"], "package descriptions are English for the prose"),
])
def test_numbers_and_names_out_of_range(tmp_path, args, needle):
    out = tmp_path / "m.npz"
    _one_line_mistake(_cli("train", *args, "--out", str(out)), needle)
    assert not out.exists()


@pytest.mark.parametrize("make", [hostile.write_truncated_mnist,
                                  lambda folder: hostile.write_garbage(folder / "mnist.npz")],
                         ids=["truncated", "garbage"])
def test_damaged_mnist_file(tmp_path, make):
    bad = make(tmp_path)
    out = tmp_path / "m.npz"
    err = _one_line_mistake(_cli("train", "digits", "--mnist", str(bad), "--out", str(out)),
                            str(bad))
    assert "BadZipFile" not in err and "not an mnist.npz" in err
    assert not out.exists()


def test_mnist_that_does_not_exist(tmp_path):
    _one_line_mistake(_cli("train", "digits", "--mnist", str(tmp_path / "none"),
                           "--out", str(tmp_path / "m.npz")), "no MNIST found")


def test_parser_mistakes_are_one_line_too():
    _one_line_mistake(_cli("train", "text"), "--out")
    _one_line_mistake(_cli("classify"), "FILE")        # an image or a stroke file
    _one_line_mistake(_cli("no-such-command"), "invalid choice")


def test_hostile_model_files_are_one_line(tmp_path):
    sample = tmp_path / "a.py"
    sample.write_text("print(1)\n" * 20)
    for path in (hostile.write_deep_brackets(tmp_path), hostile.write_linear_bomb(tmp_path)):
        _one_line_mistake(_cli("score-text", str(sample), "--model", str(path)), str(path))
        _one_line_mistake(_cli("classify", str(sample), "--model", str(path)), str(path))


# ----------------------------------------------------------------------------- JSON and progress
@pytest.fixture(scope="module")
def tiny_text_model(tmp_path_factory):
    """A tiny GRU trained through the CLI on a corpus that is then deleted (so its n-gram
    baseline is unavailable: the score's baseline figure is NaN inside, null outside)."""
    folder = tmp_path_factory.mktemp("tiny")
    corpus = folder / "corpus.txt"
    corpus.write_text("".join(f"def f{i % 7}(x):\n    return x + {i % 10}\n" for i in range(400)))
    out = folder / "tiny.npz"
    done = _cli("train", "text", "--corpus", str(corpus), "--cell", "gru", "--hidden", "8",
                "--steps", "2", "--out", str(out), "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    summary = _strict_json(done.stdout)
    assert summary["steps"] == 2 and summary["out"] == str(out)
    corpus.unlink()
    return out


def test_score_json_is_strict_when_a_figure_is_missing(tiny_text_model, tmp_path):
    sample = tmp_path / "s.py"
    sample.write_text("def f1(x):\n    return x + 1\n" * 30)
    done = _cli("score-text", str(sample), "--model", str(tiny_text_model), "--json")
    assert done.returncode == 0, done.stderr
    result = _strict_json(done.stdout)
    assert result["baseline_bits_per_char"] is None and "unavailable" in result["baseline"]
    assert result["bits_per_char"] > 0
    plain = _cli("score-text", str(sample), "--model", str(tiny_text_model))
    assert plain.returncode == 0 and "n-gram baseline unavailable" in plain.stdout


def test_score_long_file_shows_progress_and_reads_in_lanes(tiny_text_model, tmp_path):
    sample = tmp_path / "long.py"
    line = "def f1(x):\n    return x + 1\n"
    sample.write_text(line * (1_200_000 // len(line)))
    done = _cli("score-text", str(sample), "--model", str(tiny_text_model), "--json")
    assert done.returncode == 0, done.stderr
    result = _strict_json(done.stdout)
    assert result["lanes"] == 4 and result["n_scored"] == result["n_chars"] - 1
    assert "score long.py" in done.stderr and "100%" in done.stderr
