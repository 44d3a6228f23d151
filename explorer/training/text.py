"""Character-level language models (RNN / LSTM / GRU / transformer): training, validation, scoring.

``train_text`` runs truncated BPTT: the training text is cut into B lanes read side by
side in chunks of T characters, and the recurrent state is carried (detached) from one
chunk to the next, so the model sees context far beyond T. Adam, global-norm clipping
(5.0), a cosine learning-rate decay, a progress bar in bits per character, and at the end
the bits per character on the held-out split beside a 5-gram Kneser-Ney baseline fitted
on the same training text. ``score_text_file`` streams any file through a model.

``--cell transformer`` trains a causal char transformer (``explorer.training.text_transformer``)
instead: windows of its context length at random offsets, every position predicted; Adam
with warm-up, cosine decay and clipping; read back (validation, ``score-text``) by the
Sequence Lab's window rule, through the same ``chunk_bits`` as the recurrent models.
"""

from __future__ import annotations

import argparse
import codecs
import itertools
import math
import os
import sys
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
from explorer.training import text_transformer
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
SCORE_STEPS = 256            # characters per lane per model call when scoring
LANE_BYTES = 1 << 18         # score-text: one lane per 256 KB of file ...
MAX_LANES = 32               # ... up to this many, read side by side as one batch
PROGRESS_BYTES = 1 << 20     # score-text draws a progress bar from this file size on
VALID_CHARS = 1_000_000
CURVE_CHARS = 60_000         # the validation curve reads this much of the held-out split
# Per corpus: optimiser steps, lanes per batch, training characters (the whole standard
# library, about 8.4 M characters, for code; all of pydoc_data.topics, 0.34 M, for prose).
CORPUS_DEFAULTS: dict[str, dict[str, int]] = {
    "code": {"steps": 6000, "batch_size": 64, "train_chars": 12_000_000},
    "prose": {"steps": 2000, "batch_size": 32, "train_chars": 3_000_000},
    "user": {"steps": 2000, "batch_size": 32, "train_chars": 3_000_000},
}
#: what a transformer changes: windows of ``context`` characters, fewer per batch, a smaller
#: learning rate and tighter clipping (as for GPT-style models)
TRANSFORMER_DEFAULTS: dict[str, float] = {"batch_size": 16, "lr": 2e-3, "clip": 1.0}
RECURRENT_DEFAULTS: dict[str, float] = {"lr": 3e-3, "clip": 5.0}


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
    lr: float = 0.0      # 0: 3e-3 (recurrent) or 2e-3 (transformer)
    clip: float = 0.0    # 0: 5.0 (recurrent) or 1.0 (transformer)
    train_chars: int = 0
    valid_chars: int = VALID_CHARS
    # transformer only (``hidden`` is its width d_model)
    layers: int = 4
    heads: int = 4
    context: int = 128
    ff: int = 0          # 0: 3 * hidden
    dropout: float = 0.0      # on the hidden outputs, in training only (tbptt_step)
    descriptions: bool = False  # prose: also the installed packages' long descriptions
    reflow: bool = False        # prose: half the wrapped paragraphs as one line (load_prose)
    curve_every: int = 250    # validation bpc on CURVE_CHARS of the held-out split every this many steps

    def resolved(self) -> TextConfig:
        """A copy with every 0 replaced by the corpus (and cell) default."""
        defaults: dict[str, float] = dict(CORPUS_DEFAULTS.get(self.corpus, CORPUS_DEFAULTS["user"]))
        defaults.update(TRANSFORMER_DEFAULTS if self.cell == "transformer" else RECURRENT_DEFAULTS)
        defaults["ff"] = 3 * self.hidden
        fields = asdict(self)
        for key, value in defaults.items():
            fields[key] = type(value)(fields[key] or value)
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
    train = load_corpus(cfg.corpus, "train", max_chars=cfg.train_chars, descriptions=cfg.descriptions,
                        reflow=cfg.reflow)
    valid = load_corpus(cfg.corpus, "valid", max_chars=cfg.valid_chars, descriptions=cfg.descriptions,
                        reflow=cfg.reflow)
    vocab = Vocab.text()
    ids = vocab.encode(train.text)
    if len(ids) < cfg.batch_size * cfg.seq_len + 1:
        raise CorpusError(f"the corpus {cfg.corpus!r} is too short to train on: {len(ids)} characters, "
                          f"need at least {cfg.batch_size * cfg.seq_len + 1}")
    rng = np.random.default_rng(cfg.seed)
    carry: dict[str, Any] = {"state": None, "k": 0}
    chunks: Any
    if cfg.cell == "transformer":
        if len(ids) < cfg.context + 2:
            raise CorpusError(f"the corpus {cfg.corpus!r} is shorter than the context length "
                              f"({len(ids)} characters, need {cfg.context + 2})")
        try:
            model = text_transformer.build_transformer(vocab.size, vocab.size, cfg.hidden,
                                                       cfg.heads, cfg.layers, cfg.ff, cfg.context, rng)
        except ValueError as exc:
            raise TrainingError(f"cannot build that transformer: {exc}") from None
        data_rng = np.random.default_rng([cfg.seed, 7])
        chunks = (text_transformer.random_windows(ids, cfg.batch_size, cfg.context, data_rng)
                  for _ in itertools.count())
    else:
        model = build_sequence_model(vocab.size, vocab.size, cfg.cell, cfg.hidden, cfg.embed, rng)
        chunks = _lanes(ids, cfg, cfg.seed)
    opt = Adam(model.parameters(), lr=cfg.lr)
    drop_rng = np.random.default_rng([cfg.seed, 11])
    curve_ids = vocab.encode(valid.text[:CURVE_CHARS])
    curve: list[list[float]] = []     # [step, characters seen, validation bpc, seconds]
    t_start = time.perf_counter()

    def step_fn(batch: tuple[np.ndarray, ...]) -> dict[str, float]:
        opt.lr = _learning_rate(cfg, carry["k"])
        carry["k"] += 1
        if cfg.cell == "transformer":
            x, y = batch[0], batch[1]
            loss = text_transformer.train_step(model, x, y, opt, cfg.clip)
        else:
            x, y, reset = batch
            loss, carry["state"] = tbptt_step(model, x, y, None if reset else carry["state"], opt,
                                              cfg.clip, cfg.dropout, drop_rng)
        k = carry["k"]
        if cfg.curve_every and (k % cfg.curve_every == 0 or k == cfg.steps) and len(curve_ids) > 64:
            model.eval()
            bpc, _ = stream_bits_per_char(model, curve_ids, lanes=8)
            curve.append([k, k * x.size, round(bpc, 4), round(time.perf_counter() - t_start, 1)])
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
    embed = cfg.hidden if cfg.cell == "transformer" else cfg.embed
    model.meta = {
        "task": "text", "corpus": cfg.corpus, "corpus_source": train.source,
        "vocab": vocab.to_meta(), "cell": cfg.cell, "hidden": cfg.hidden, "embed": embed,
        "valid_bpc": round(valid_bpc, 4), "baseline_bpc": round(baseline.bits_per_char(valid.text), 4),
        "baseline": f"{NGRAM_ORDER}-gram modified Kneser-Ney on the same training text",
        "train_chars": train.n_chars, "train_chars_cap": cfg.train_chars,
        "valid_chars": valid.n_chars, "valid_files": len(valid.files), "seed": cfg.seed,
        "steps": len(history.steps), "batch_size": cfg.batch_size, "seq_len": cfg.seq_len,
        "lr": cfg.lr, "clip": cfg.clip, "dropout": cfg.dropout, "descriptions": cfg.descriptions,
        "reflow": cfg.reflow,
        "chars_seen": len(history.steps) * cfg.batch_size * cfg.seq_len,
        "valid_curve": curve, "valid_curve_chars": int(len(curve_ids)),
        "final_train_bpc": round(float(smooth["bpc"]), 4), "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu, 1), "cancelled": history.cancelled,
        # the held-out code is the running Python's own standard library: figures are per version
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    if cfg.cell == "transformer":
        model.meta.update({"layers": cfg.layers, "heads": cfg.heads, "context": cfg.context,
                           "ff": cfg.ff, "norm_first": True, "activation": "relu",
                           "seq_len": cfg.context})
    return model, {**model.meta, "valid_predicted_chars": n_valid}


# ----------------------------------------------------------------------------- command line
def _command(kind: str, args: argparse.Namespace, extra: list[str]) -> str:
    parts = ["cnn-rnn-explorer", "train", kind, *extra, "--seed", str(args.seed), "--out", str(args.out)]
    return " ".join(parts)


def train_text_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``train text``: train, save atomically to --out, return the summary (printed as JSON)."""
    shape = {k: int(getattr(args, k)) for k in ("layers", "heads", "context", "ff")
             if getattr(args, k, None)}
    dropout = float(getattr(args, "dropout", 0.0) or 0.0)
    train_chars = int(getattr(args, "train_chars", 0) or 0)
    descriptions = bool(getattr(args, "descriptions", False))
    reflow = bool(getattr(args, "reflow", False))
    cfg = TextConfig(corpus=str(args.corpus), cell=args.cell, hidden=int(args.hidden),
                     steps=int(args.steps or 0), seed=int(args.seed), dropout=dropout,
                     train_chars=train_chars, descriptions=descriptions, reflow=reflow,
                     **shape).resolved()
    model, summary = train_text(cfg, progress=not args.quiet)
    extra = ["--corpus", cfg.corpus, "--cell", cfg.cell, "--hidden", str(cfg.hidden),
             "--steps", str(cfg.steps)]
    if cfg.cell == "transformer":
        extra += ["--layers", str(cfg.layers), "--heads", str(cfg.heads),
                  "--context", str(cfg.context), "--ff", str(cfg.ff)]
    if train_chars:
        extra += ["--train-chars", str(train_chars)]
    if descriptions:
        extra += ["--descriptions"]
    if reflow:
        extra += ["--reflow"]
    if dropout:
        extra += ["--dropout", str(dropout)]
    model.meta["command"] = _command("text", args, extra)
    save_model(model, args.out)
    return {**summary, "command": model.meta["command"], "out": str(args.out)}


def train_task_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``train task``: a toy-language model, saved atomically to --out; returns its figures."""
    shape = {k: int(getattr(args, k)) for k in ("layers", "heads", "context", "ff")
             if getattr(args, k, None)}
    model, summary = train_task(args.task, cell=args.cell, hidden=args.hidden, length=args.length,
                                steps=args.steps, seed=int(args.seed), progress=not args.quiet,
                                shape=shape)
    m = model.meta
    extra = ["--task", args.task, "--cell", m["cell"], "--hidden", str(m["hidden"]),
             "--length", str(m["train_length"]), "--steps", str(m["steps"])]
    if m["cell"] == "transformer":
        extra += ["--layers", str(m["layers"]), "--heads", str(m["heads"]),
                  "--context", str(m["context"]), "--ff", str(m["ff"])]
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


def read_text_chunks(path: str | os.PathLike[str], chunk_chars: int | None = None,
                     start: int = 0, stop: int | None = None) -> Iterator[str]:
    """Stream bytes [start, stop) of a text file as str pieces of at most chunk_chars:
    UTF-8 with replacement, CR/LF -> LF. ``start`` must be a character boundary."""
    path = os.fspath(path)
    chunk_chars = chunk_chars or SCORE_CHUNK_CHARS
    check_text_file(path)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    left = (os.path.getsize(path) if stop is None else stop) - start
    with open(path, "rb") as fh:
        fh.seek(start)
        while True:
            raw = fh.read(min(READ_BYTES, max(0, left)))
            left -= len(raw)
            final = not raw
            pending += decoder.decode(raw, final=final)
            keep = "\r" if pending.endswith("\r") and not final else ""
            text = (pending[:-1] if keep else pending).replace("\r\n", "\n").replace("\r", "\n")
            pending = keep
            for s in range(0, len(text), chunk_chars):
                yield text[s:s + chunk_chars]
            if final:
                return


def check_text_file(path: str | os.PathLike[str]) -> int:
    """-> size in bytes; IsADirectoryError / CorpusError for a folder, an empty or binary file."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, "is a folder, not a text file", path)
    size = os.path.getsize(path)
    if size == 0:
        raise CorpusError(f"{path} is empty")
    if is_binary(path):
        raise CorpusError(f"{path} looks like a binary file (it contains NUL bytes), not text")
    return size


def lane_starts(path: str | os.PathLike[str], size: int, lanes: int) -> list[tuple[int, bool]]:
    """Cut a file into ``lanes`` byte ranges -> [(start byte, starts after a newline)].

    Each cut moves forward to just after the next newline (so no character or CR/LF pair
    is split, and the character before the lane is known: "\n"); if none is found within
    READ_BYTES, to the next UTF-8 character boundary. Empty lanes are dropped."""
    starts = [(0, False)]
    with open(path, "rb") as fh:
        for k in range(1, lanes):
            fh.seek(max(k * size // lanes, starts[-1][0] + 1))
            raw = fh.read(READ_BYTES)
            nl = raw.find(b"\n")
            if nl >= 0:
                cut, after_newline = fh.tell() - len(raw) + nl + 1, True
            else:
                skip = next((i for i, b in enumerate(raw[:4]) if (b & 0xC0) != 0x80), 0)
                cut, after_newline = fh.tell() - len(raw) + skip, False
            if starts[-1][0] < cut < size:
                starts.append((cut, after_newline))
    return starts


def baseline_for(meta: dict[str, Any]) -> NGramModel | None:
    """The n-gram baseline fitted on the model's own training text, or None if it is gone."""
    try:
        train = load_corpus(str(meta.get("corpus")), "train", max_chars=meta.get("train_chars_cap"),
                            descriptions=bool(meta.get("descriptions", False)),
                            reflow=bool(meta.get("reflow", False)))
    except (CorpusError, OSError):
        return None
    return NGramModel(NGRAM_ORDER, Vocab.from_meta(meta["vocab"])).fit(train.text)


def score_text_file(path: str | os.PathLike[str], model_name_or_file: str = "code_lstm",
                    progress: bool = False) -> dict[str, Any]:
    """Bits per character of a file under a char model, and under the model's n-gram baseline.

    Streams the file in bounded memory (never holds it whole). A file under ``LANE_BYTES``
    is read as one stream with the state carried (batch 1): every character after the
    first is predicted. A longer one is cut into up to ``MAX_LANES`` lanes at newlines
    (``lane_starts``), read side by side as one batch (many times faster): each lane starts
    from a fresh state with the newline before it as its first input, so every character
    after the first is still predicted, with the context restarted ``lanes - 1`` times
    (the held-out bpc of training is measured the same way). ``progress`` draws a bar on
    stderr for files of ``PROGRESS_BYTES`` or more.
    -> {bits_per_char, baseline_bits_per_char, model, n_chars, n_scored, lanes, ...}.
    """
    model, mpath = load_text_model(model_name_or_file)
    vocab = Vocab.from_meta(model.meta["vocab"])
    model.eval()
    size = check_text_file(path)
    starts = lane_starts(path, size, max(1, min(MAX_LANES, size // LANE_BYTES)))
    stops = [b for b, _ in starts[1:]] + [size]
    newline = int(vocab.encode("\n")[0])
    lanes = [_Lane(read_text_chunks(path, start=b, stop=e), vocab, newline if nl else None)
             for (b, nl), e in zip(starts, stops)]
    baseline = baseline_for(model.meta)
    bar = ProgressBar(size, f"score {Path(path).name}", enabled=progress and size >= PROGRESS_BYTES)
    bits = base_bits = 0.0
    n_scored, state = 0, None
    while True:
        for lane in lanes:
            lane.fill(SCORE_STEPS + 1, baseline)
        if all(len(lane.ids) < 2 for lane in lanes):
            break
        x = np.zeros((len(lanes), SCORE_STEPS), np.int64)
        y = np.zeros_like(x)
        mask = np.zeros(x.shape, bool)
        for k, lane in enumerate(lanes):
            m = min(SCORE_STEPS, len(lane.ids) - 1)
            if m > 0:
                x[k, :m], y[k, :m], mask[k, :m] = lane.ids[:m], lane.ids[1:m + 1], True
                lane.ids = lane.ids[m:]
        width = int(mask.sum(axis=1).max())
        b, state = chunk_bits(model, x[:, :width], y[:, :width], state)
        bits += float(b[mask[:, :width]].sum(dtype=np.float64))
        n_scored += int(mask.sum())
        bar.update(int(mask.sum()))
    bar.update(bar.total - bar.n)            # bytes vs characters: end the bar at 100 %
    bar.close()
    n_chars = sum(lane.n_chars for lane in lanes)
    if n_scored == 0:
        raise CorpusError(f"{path} is too short to score: it holds a single character")
    base_scored = sum(lane.base_scored for lane in lanes)
    base_bits = sum(lane.base_bits for lane in lanes)
    return {
        "file": str(path), "model": mpath.stem, "model_file": str(mpath),
        "bits_per_char": bits / n_scored,
        "baseline_bits_per_char": base_bits / base_scored if baseline else float("nan"),
        "baseline": f"{NGRAM_ORDER}-gram Kneser-Ney on the model's training corpus "
                    f"({model.meta.get('corpus')})" if baseline else "unavailable: training corpus not found",
        "n_chars": n_chars, "n_scored": n_scored, "lanes": len(lanes),
    }


class _Lane:
    """One contiguous part of the file: its ids still to score (with the previous character
    in front when it is known), and its n-gram baseline figures (scored as it is read)."""

    def __init__(self, pieces: Iterator[str], vocab: Vocab, prev: int | None) -> None:
        self.pieces, self.vocab = pieces, vocab
        self.ids = np.array([] if prev is None else [prev], np.int64)
        self.tail = "" if prev is None else "\n"
        self.n_chars = 0
        self.base_bits, self.base_scored = 0.0, 0

    def fill(self, need: int, baseline: NGramModel | None) -> None:
        while len(self.ids) < need:
            text = next(self.pieces, None)
            if text is None:
                return
            ids = self.vocab.encode(text).astype(np.int64)
            self.n_chars += len(ids)
            self.ids = np.r_[self.ids, ids]
            if baseline is not None:
                skip = len(self.tail) + (0 if self.tail or self.base_scored else 1)
                lp = baseline.log2_probs(self.tail + text)[skip:]
                self.base_bits -= float(lp.sum())
                self.base_scored += len(lp)
            self.tail = (self.tail + text)[-(NGRAM_ORDER - 1):]
