"""Character-level language models (RNN / LSTM / GRU): training, validation and scoring.

``train_text`` runs truncated BPTT: the training text is cut into B lanes read side by
side in chunks of T characters, and the recurrent state is carried (detached) from one
chunk to the next, so the model sees context far beyond T. Adam, global-norm clipping
(5.0), a cosine learning-rate decay, a progress bar in bits per character, and at the end
the bits per character on the held-out split beside a 5-gram Kneser-Ney baseline fitted
on the same training text. ``score_text_file`` streams any file through a model.
"""

from __future__ import annotations

import argparse
import codecs
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.data.corpora import CorpusError, is_binary, load_corpus, tbptt_batches
from explorer.data.ngram import NGramModel
from explorer.data.vocab import Vocab
from explorer.engine import Adam, Model, ModelFileError, load_model, save_model
from explorer.paths import model_path, models_dir
from explorer.training.loop import Event, fit
from explorer.training.progress import ProgressBar
from explorer.training.text_models import (
    LOG2E,
    TrainingError,
    build_sequence_model,
    chunk_bits,
    stream_bits_per_char,
    tbptt_step,
    train_task,
)

__all__ = ["TextConfig", "TrainingError", "load_text_model", "read_text_chunks", "resolve_model",
           "score_text_file", "train_task", "train_task_cli", "train_text", "train_text_cli"]

NGRAM_ORDER = 5
SCORE_CHUNK_CHARS = 10_000
READ_BYTES = 1 << 20
VALID_CHARS = 1_000_000
# Per corpus: optimiser steps, lanes per batch, training characters (the whole standard
# library, about 8.4 M characters, for code; all of pydoc_data.topics, 0.34 M, for prose).
CORPUS_DEFAULTS: dict[str, dict[str, int]] = {
    "code": {"steps": 6000, "batch_size": 64, "train_chars": 12_000_000},
    "prose": {"steps": 2000, "batch_size": 32, "train_chars": 3_000_000},
    "user": {"steps": 2000, "batch_size": 32, "train_chars": 3_000_000},
}


@dataclass
class TextConfig:
    """Everything that determines a trained char model (with the seed, it reproduces it)."""

    corpus: str = "code"
    cell: str = "lstm"
    hidden: int = 128
    steps: int = 0  # 0 (or None): CORPUS_DEFAULTS of the corpus ("user" for a path)
    seed: int = 0
    embed: int = 32
    batch_size: int = 0
    seq_len: int = 64
    lr: float = 3e-3
    clip: float = 5.0
    train_chars: int = 0
    valid_chars: int = VALID_CHARS

    def resolved(self) -> TextConfig:
        """A copy with every 0 replaced by the corpus default."""
        defaults = CORPUS_DEFAULTS.get(self.corpus, CORPUS_DEFAULTS["user"])
        fields = asdict(self)
        for key, value in defaults.items():
            fields[key] = int(fields[key] or value)
        return TextConfig(**fields)


def _lanes(ids: np.ndarray, cfg: TextConfig, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """Endless (x, y, reset) chunks: epoch after epoch of tbptt_batches, reset=True at a new epoch."""
    rng = np.random.default_rng([seed, 7])
    while True:
        first = True
        for x, y in tbptt_batches(ids, cfg.batch_size, cfg.seq_len, rng):
            yield x, y, first
            first = False


def _learning_rate(cfg: TextConfig, k: int) -> float:
    """Cosine decay from lr to lr / 10 over the run, after 100 warm-up steps."""
    warm = min(100, cfg.steps // 10)
    if k < warm:
        return cfg.lr * (k + 1) / warm
    frac = (k - warm) / max(1, cfg.steps - warm)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def train_text(config: TextConfig, *, progress: bool = True,
               callback: Callable[[Event], None] | None = None,
               cancel: threading.Event | None = None) -> tuple[Model, dict[str, Any]]:
    """Train a char model on a corpus; -> (model with figures in meta, summary dict)."""
    cfg = config.resolved()
    train = load_corpus(cfg.corpus, "train", max_chars=cfg.train_chars)
    valid = load_corpus(cfg.corpus, "valid", max_chars=cfg.valid_chars)
    vocab = Vocab.text()
    ids = vocab.encode(train.text)
    if len(ids) < cfg.batch_size * cfg.seq_len + 1:
        raise CorpusError(f"the corpus {cfg.corpus!r} is too short to train on: {len(ids)} characters, "
                          f"need at least {cfg.batch_size * cfg.seq_len + 1}")
    rng = np.random.default_rng(cfg.seed)
    model = build_sequence_model(vocab.size, vocab.size, cfg.cell, cfg.hidden, cfg.embed, rng)
    opt = Adam(model.parameters(), lr=cfg.lr)
    chunks = _lanes(ids, cfg, cfg.seed)
    carry: dict[str, Any] = {"state": None, "k": 0}

    def step_fn(batch: tuple[np.ndarray, np.ndarray, bool]) -> dict[str, float]:
        x, y, reset = batch
        opt.lr = _learning_rate(cfg, carry["k"])
        carry["k"] += 1
        loss, carry["state"] = tbptt_step(model, x, y, None if reset else carry["state"], opt, cfg.clip)
        return {"loss": loss, "bpc": loss * LOG2E}

    bar = ProgressBar(cfg.steps, f"train {cfg.cell}-{cfg.hidden} on {cfg.corpus}", enabled=progress)
    smooth = {"bpc": float("nan")}

    def on_event(ev: Event) -> None:
        if ev.kind == "step":
            b = ev.metrics["bpc"]
            smooth["bpc"] = b if not np.isfinite(smooth["bpc"]) else 0.98 * smooth["bpc"] + 0.02 * b
            bar.update(bpc=smooth["bpc"])
        if callback is not None:
            callback(ev)

    start, cpu = time.perf_counter(), time.process_time()
    history = fit(step_fn, lambda _e: chunks, 1, cfg.steps, model=model, callback=on_event,
                  cancel=cancel)
    bar.close()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    model.eval()
    valid_bpc, n_valid = stream_bits_per_char(model, vocab.encode(valid.text))
    baseline = NGramModel(NGRAM_ORDER, vocab).fit(train.text)
    model.meta = {
        "task": "text", "corpus": cfg.corpus, "corpus_source": train.source,
        "vocab": vocab.to_meta(), "cell": cfg.cell, "hidden": cfg.hidden, "embed": cfg.embed,
        "valid_bpc": round(valid_bpc, 4), "baseline_bpc": round(baseline.bits_per_char(valid.text), 4),
        "baseline": f"{NGRAM_ORDER}-gram modified Kneser-Ney on the same training text",
        "train_chars": train.n_chars, "train_chars_cap": cfg.train_chars,
        "valid_chars": valid.n_chars, "valid_files": len(valid.files), "seed": cfg.seed,
        "steps": len(history.steps), "batch_size": cfg.batch_size, "seq_len": cfg.seq_len,
        "lr": cfg.lr, "clip": cfg.clip,
        "final_train_bpc": round(float(smooth["bpc"]), 4), "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu, 1), "cancelled": history.cancelled,
    }
    return model, {**model.meta, "valid_predicted_chars": n_valid}


# ----------------------------------------------------------------------------- command line
def _command(kind: str, args: argparse.Namespace, extra: list[str]) -> str:
    parts = ["cnn-rnn-explorer", "train", kind, *extra, "--seed", str(args.seed), "--out", str(args.out)]
    return " ".join(parts)


def train_text_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``train text``: train, save atomically to --out, return the summary (printed as JSON)."""
    cfg = TextConfig(corpus=str(args.corpus), cell=args.cell, hidden=int(args.hidden),
                     steps=int(args.steps or 0), seed=int(args.seed)).resolved()
    model, summary = train_text(cfg, progress=not args.quiet)
    extra = ["--corpus", cfg.corpus, "--cell", cfg.cell, "--hidden", str(cfg.hidden),
             "--steps", str(cfg.steps)]
    model.meta["command"] = _command("text", args, extra)
    save_model(model, args.out)
    return {**summary, "command": model.meta["command"], "out": str(args.out)}


def train_task_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``train task``: a toy-language model, saved atomically to --out; returns its figures."""
    model, summary = train_task(args.task, cell=args.cell, hidden=args.hidden, length=args.length,
                                steps=args.steps, seed=int(args.seed), progress=not args.quiet)
    m = model.meta
    extra = ["--task", args.task, "--cell", m["cell"], "--hidden", str(m["hidden"]),
             "--length", str(m["train_length"]), "--steps", str(m["steps"])]
    model.meta["command"] = _command("task", args, extra)
    save_model(model, args.out)
    return {**summary, "command": model.meta["command"], "out": str(args.out)}


# ----------------------------------------------------------------------------- scoring
def resolve_model(name_or_file: str | os.PathLike[str]) -> Path:
    """A shipped model's name ("code_lstm") or a path to a model file -> its path."""
    path = Path(name_or_file).expanduser()
    if path.is_file():
        return path
    name = str(name_or_file)
    shipped = model_path(name if name.endswith(".npz") else name + ".npz")
    if shipped.is_file():
        return shipped
    known = sorted(p.stem for p in models_dir().glob("*.npz")) if models_dir().is_dir() else []
    raise ModelFileError(f"no model {name!r}: it is neither a file nor a shipped model"
                         + (f" (shipped: {', '.join(known)})" if known else ""))


def load_text_model(name_or_file: str | os.PathLike[str]) -> tuple[Model, Path]:
    """Load a char model; a digit or toy-language model raises ModelFileError saying so."""
    path = resolve_model(name_or_file)
    model = load_model(path)
    task = model.meta.get("task")
    if task == "text":
        return model, path
    first = model.layers[0].type_name if model.layers else ""
    if task in ("digits", "digit", "mnist") or first in ("Conv2d", "Flatten", "Linear"):
        raise ModelFileError(f"{path.name} is a digit model, not a text model")
    if task == "toy":
        raise ModelFileError(f"{path.name} is a toy-language model ({model.meta.get('toy_task')}), "
                             "not a text model")
    raise ModelFileError(f"{path.name} is not a text model (its meta has task {task!r})")


def read_text_chunks(path: str | os.PathLike[str], chunk_chars: int | None = None
                     ) -> Iterator[str]:
    """Stream a text file as str pieces of at most chunk_chars: UTF-8 with replacement, CR/LF -> LF."""
    path = os.fspath(path)
    chunk_chars = chunk_chars or SCORE_CHUNK_CHARS
    if os.path.isdir(path):
        raise IsADirectoryError(21, "is a folder, not a text file", path)
    if os.path.getsize(path) == 0:
        raise CorpusError(f"{path} is empty")
    if is_binary(path):
        raise CorpusError(f"{path} looks like a binary file (it contains NUL bytes), not text")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    with open(path, "rb") as fh:
        while True:
            raw = fh.read(READ_BYTES)
            final = not raw
            pending += decoder.decode(raw, final=final)
            keep = "\r" if pending.endswith("\r") and not final else ""
            text = (pending[:-1] if keep else pending).replace("\r\n", "\n").replace("\r", "\n")
            pending = keep
            for s in range(0, len(text), chunk_chars):
                yield text[s:s + chunk_chars]
            if final:
                return


def baseline_for(meta: dict[str, Any]) -> NGramModel | None:
    """The n-gram baseline fitted on the model's own training text, or None if it is gone."""
    try:
        train = load_corpus(str(meta.get("corpus")), "train", max_chars=meta.get("train_chars_cap"))
    except (CorpusError, OSError):
        return None
    return NGramModel(NGRAM_ORDER, Vocab.from_meta(meta["vocab"])).fit(train.text)


def score_text_file(path: str | os.PathLike[str], model_name_or_file: str = "code_lstm"
                    ) -> dict[str, Any]:
    """Bits per character of a file under a char model, and under the model's n-gram baseline.

    Streams the file in chunks with the state carried (batch 1); every character after the
    first is predicted. -> {bits_per_char, baseline_bits_per_char, model, n_chars, ...}.
    """
    model, mpath = load_text_model(model_name_or_file)
    vocab = Vocab.from_meta(model.meta["vocab"])
    model.eval()
    state, prev, tail = None, None, ""
    bits = base_bits = 0.0
    n_chars = n_scored = 0
    baseline: NGramModel | None | bool = False  # False: not fitted yet
    for text in read_text_chunks(path):
        ids = vocab.encode(text).astype(np.int64)
        n_chars += len(ids)
        seq = ids if prev is None else np.r_[prev, ids]
        if baseline is False:
            baseline = baseline_for(model.meta)
        if baseline is not None:
            lp = baseline.log2_probs(tail + text)[len(tail) + (1 if prev is None else 0):]
            base_bits -= float(lp.sum())
        tail = (tail + text)[-(NGRAM_ORDER - 1):]
        if len(seq) >= 2:
            b, state = chunk_bits(model, seq[None, :-1], seq[None, 1:], state)
            bits += float(b.sum(dtype=np.float64))
            n_scored += len(seq) - 1
        prev = seq[-1:]
    if n_scored == 0:
        raise CorpusError(f"{path} is too short to score: it holds a single character")
    return {
        "file": str(path), "model": mpath.stem, "model_file": str(mpath),
        "bits_per_char": bits / n_scored,
        "baseline_bits_per_char": base_bits / n_scored if baseline else float("nan"),
        "baseline": f"{NGRAM_ORDER}-gram Kneser-Ney on the model's training corpus "
                    f"({model.meta.get('corpus')})" if baseline else "unavailable: training corpus not found",
        "n_chars": n_chars, "n_scored": n_scored,
    }
