"""Commands keep what they made: generate streams and keeps its text on Ctrl+C, every --out is
checked before any work, skipped fine-tuning inputs are named, control characters are escaped
on a terminal."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from explorer import cli
from explorer.commands import generate
from explorer.commands.cliargs import escape_controls

ROOT = Path(__file__).resolve().parents[2]


def test_generate_interrupted_keeps_what_it_wrote(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    # Ctrl+C as in a terminal: SIGINT's default handling, even when this run inherited it ignored
    # (a job a non-interactive shell put in the background: Python then never raises KeyboardInterrupt)
    proc = subprocess.Popen([sys.executable, "-m", "explorer.cli", "generate", "--prime", "def ",
                             "--chars", "10000000", "--temperature", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    got, err_bytes = bytearray(), bytearray()

    def read(pipe, into: bytearray) -> None:
        while chunk := pipe.read1(4096):
            into.extend(chunk)
    readers = [threading.Thread(target=read, args=(pipe, into), daemon=True)
               for pipe, into in ((proc.stdout, got), (proc.stderr, err_bytes))]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 120
        while len(got) < 300 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(got) >= 300, "nothing streamed before the end"      # streamed as it goes
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130                            # (a failure, never a hung run)
    finally:
        if proc.poll() is None:
            proc.kill()
    for reader in readers:
        reader.join(timeout=10)
    err = err_bytes.decode()
    text = got.decode()
    assert text.startswith("def ") and len(text) >= 300 and text.endswith("\n")
    assert "interrupted after" in err and "what was written is kept" in err and "Traceback" not in err
    n = int(err.split("interrupted after ")[1].split(" of ")[0].replace(",", ""))
    assert len(text) == len("def ") + n + 1                            # every character counted was kept
    assert "generate" in err                                           # the progress bar (stdout is a pipe)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_control_characters_are_escaped_on_a_terminal_only():
    assert escape_controls("a\x1b[2Jb\n\tc\x07\x9bé") == "a\\x1b[2Jb\n\tc\\x07\\x9bé"

    class Writer:                          # a stand-in writer: two characters, one of them ESC
        def write(self, n, *a):
            from explorer.analysis.generate import Step
            for ch in "\x1bz"[:n]:
                yield Step(0, ch, np.ones(1), np.zeros(1))
    args = argparse.Namespace(prime="x\x1b]0;owned\x07", chars=2, temperature=0, top_k=0, seed=0)
    tty, err = FakeTerminal(), io.StringIO()
    assert generate.stream(Writer(), args, tty, err) == 0
    assert tty.getvalue() == "x\\x1b]0;owned\\x07\\x1bz\n"
    pipe = io.StringIO()
    generate.stream(Writer(), args, pipe, err)
    assert pipe.getvalue() == "x\x1b]0;owned\x07\x1bz\n"                 # files and pipes get the bytes


@pytest.mark.parametrize("command", [
    ["dream", "--target", "class:3"],
    ["convert", "model.onnx"],
    ["compare-snapshot", "--task", "recall"],
    ["train", "text", "--steps", "5"],
])
def test_every_out_is_checked_before_any_work(command, tmp_path, capsys, monkeypatch):
    calls = []
    for target in ("explorer.commands.dream.dream", "explorer.commands.dream.load_digit_model",
                   "explorer.training.text.train_text_cli"):
        monkeypatch.setattr(target, lambda *a, **k: calls.append(a) or pytest.fail("work started"))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for out, why in ((tmp_path / "missing" / "x.out", "does not exist"),
                     (blocker / "x.out", "is a file, not a folder")):
        code = cli.main([*command, "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and calls == [], err
        assert why in err and str(out.parent) in err, err                # names the user's path
        assert len(err.strip().splitlines()) == 1


def test_finetune_names_skipped_inputs(tmp_path, capsys):
    from explorer.data.examples import ExampleStore, load_examples
    from explorer.training.finetune import report_skipped
    root = tmp_path / "my_digits"
    store = ExampleStore(root)
    pts = [np.array([[100.0, 40.0], [110.0, 240.0]], np.float32)]
    store.save(1, strokes=pts)
    store.save(7, strokes=[np.array([[60.0, 50.0], [220.0, 50.0], [120.0, 250.0]], np.float32)])
    (root / "12").mkdir()
    (root / "seven").mkdir()
    (root / "notes.txt").write_text("x")
    (root / "3").mkdir()
    (root / "3" / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "3" / "readme.md").write_text("x")
    ex = load_examples(root)
    assert len(ex) == 2
    skipped = dict(ex.skipped)
    assert skipped == {
        str(root / "12"): "not a folder named 0 to 9", str(root / "seven"): "not a folder named 0 to 9",
        str(root / "notes.txt"): "a file beside the label folders",
        str(root / "3" / "broken.png"): skipped[str(root / "3" / "broken.png")],
        str(root / "3" / "readme.md"): skipped[str(root / "3" / "readme.md")]}
    assert skipped[str(root / "3" / "broken.png")].startswith("unreadable")
    assert skipped[str(root / "3" / "readme.md")].startswith("not an image")
    report_skipped(ex.skipped, shown=2)
    err = capsys.readouterr().err
    assert "skipped 5 inputs" in err and "… and 3 more" in err
    json.dumps(ex.skipped)
