"""CLI test fixtures: tiny text models trained for a few steps on a small corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.engine import save_model
from explorer.training import text


def _train_tiny_text(folder: Path, corpus_text: str, cell: str, hidden: int, steps: int) -> Path:
    """Train a ``cell`` text model (embed 6, batches of 4 x 16 characters) on ``corpus_text``
    for ``steps`` steps, save it as ``folder/tiny_<cell>.npz`` -> its path."""
    corpus = folder / "corpus.txt"
    corpus.write_text(corpus_text)
    cfg = text.TextConfig(corpus=str(corpus), cell=cell, hidden=hidden, embed=6, steps=steps,
                          batch_size=4, seq_len=16)
    model, _ = text.train_text(cfg, progress=False)
    path = folder / f"tiny_{cell}.npz"
    save_model(model, path)
    return path


@pytest.fixture(scope="session")
def train_tiny_text():
    """train_tiny_text(folder, corpus_text, cell, hidden, steps) -> path of the saved model."""
    return _train_tiny_text
