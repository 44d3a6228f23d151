"""A causal character CNN (a dilated Conv1d stack) as a language model of Python code.

Input: one-hot characters, channels first (N, V, L + R - 1); R = 2**layers is the
receptive field. Layers: ``Conv1d(V, C, 2) -> ReLU -> Conv1d(C, C, 2, dilation=2) -> ReLU
-> ... -> Conv1d(C, C, 2, dilation=2**(layers-1)) -> ReLU -> Conv1d(C, V, 1)``, all
"valid" (no padding): output t sees exactly inputs t .. t + R - 1 and predicts the
character after them. Causality comes from where the window sits, so the padding is on
the left only: for a stream, R - 1 all-zero columns ("no character yet") go before it.
The channel width is chosen so that every receptive field has about as many parameters
as the shipped code LSTM. Trained on the standard library's training files (the code LSTM's
corpus), on random windows, with Adam and a cosine learning-rate decay.

``python -m explorer.training.text_cnn --field 16 --out FILE`` trains one (see the model card).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import numpy as np

from explorer.data.corpora import load_corpus
from explorer.data.vocab import Vocab
from explorer.engine import Adam, Conv1d, Model, ReLU, clip_grad_norm, cross_entropy, log_softmax, save_model
from explorer.engine.layer import Layer
from explorer.training.progress import ProgressBar
from explorer.training.text_models import LOG2E, TrainingError

FIELDS = (8, 16, 32, 64)
TARGET_PARAMS = 195_618      # the shipped code LSTM (Embedding 98x32, LSTM 32->192, Linear 192->98)


def n_layers(field: int) -> int:
    """Receptive field 2**k -> k layers of kernel 2 with dilations 1, 2, ..., 2**(k-1)."""
    k = int(round(math.log2(field)))
    if field < 2 or 2 ** k != field:
        raise TrainingError(f"the receptive field must be a power of two >= 2, got {field}")
    return k


def cnn_params(vocab: int, channels: int, layers: int) -> int:
    """Parameter count of the stack (weights and biases)."""
    first = vocab * channels * 2 + channels
    middle = (layers - 1) * (channels * channels * 2 + channels)
    return first + middle + channels * vocab + vocab


def channels_for(vocab: int, field: int, target: int = TARGET_PARAMS) -> int:
    """The width that brings the stack closest to ``target`` parameters."""
    layers = n_layers(field)
    return min(range(8, 513), key=lambda c: abs(cnn_params(vocab, c, layers) - target))


def build_char_cnn(vocab: int, field: int, channels: int, rng: np.random.Generator,
                   meta: dict[str, Any] | None = None) -> Model:
    """one-hot (N, V, L + field - 1) -> logits (N, V, L)."""
    layers: list[Layer] = []
    for i in range(n_layers(field)):
        layers += [Conv1d(vocab if i == 0 else channels, channels, 2, dilation=2 ** i, rng=rng), ReLU()]
    layers.append(Conv1d(channels, vocab, 1, rng=rng))
    return Model(layers, meta)


def receptive_field(model: Model) -> int:
    """1 + sum of (k - 1) * dilation over the Conv1d layers."""
    return 1 + sum((layer.kernel_size - 1) * layer.dilation for layer in model.layers  # type: ignore[attr-defined]
                   if layer.type_name == "Conv1d")


def one_hot(ids: np.ndarray, vocab: int, left_pad: int = 0) -> np.ndarray:
    """ids (N, T) -> (N, V, left_pad + T) float32; the padding columns are all zero."""
    out = np.zeros((ids.shape[0], vocab, left_pad + ids.shape[1]), np.float32)
    np.put_along_axis(out[:, :, left_pad:], ids[:, None, :].astype(np.intp), 1.0, axis=1)
    return out


def stream_logprobs(model: Model, ids: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """ids (n,) -> (n - 1, V) log-probabilities of characters 1 .. n-1 (each from its past)."""
    vocab = model.layers[0].in_channels  # type: ignore[attr-defined]
    field = receptive_field(model)
    padded = np.r_[np.full(field - 1, -1), np.asarray(ids[:-1], np.int64)]
    out = []
    model.eval()
    for s in range(0, len(ids) - 1, chunk):
        window = padded[s:s + chunk + field - 1]
        x = np.zeros((1, vocab, len(window)), np.float32)
        ok = window >= 0
        x[0, window[ok], np.flatnonzero(ok)] = 1.0
        logits = model.predict(x)[0].T                       # (L, V)
        out.append(log_softmax(logits.astype(np.float64)))
    return np.concatenate(out)


def train_char_cnn(field: int, steps: int = 600, batch: int = 32, length: int = 128,
                   lr: float = 2e-3, seed: int = 0, train_chars: int = 3_000_000,
                   channels: int | None = None, progress: bool = True) -> tuple[Model, dict[str, Any]]:
    """Train on random windows of the code corpus' training split; -> (model, figures)."""
    vocab = Vocab.text()
    train = load_corpus("code", "train", max_chars=train_chars)
    ids = vocab.encode(train.text).astype(np.int64)
    channels = channels or channels_for(vocab.size, field)
    rng = np.random.default_rng(seed)
    model = build_char_cnn(vocab.size, field, channels, rng)
    opt = Adam(model.parameters(), lr=lr)
    bar = ProgressBar(steps, f"train char-CNN field {field} ({channels} ch)", enabled=progress)
    start, cpu, smooth = time.perf_counter(), time.process_time(), float("nan")
    span = field - 1 + length
    for k in range(steps):
        opt.lr = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * k / steps))) * min(1.0, (k + 1) / 50)
        starts = rng.integers(0, len(ids) - span - 1, size=batch)
        win = ids[starts[:, None] + np.arange(span + 1)]
        x, y = one_hot(win[:, :span], vocab.size), win[:, field:span + 1]
        model.train()
        model.zero_grad()
        logits = model.forward(x)                             # (B, V, L)
        loss, d = cross_entropy(logits.transpose(0, 2, 1), y)
        model.backward(np.ascontiguousarray(d.transpose(0, 2, 1)))
        grads = model.gradients()
        clip_grad_norm(grads, 5.0)
        opt.step(grads)
        b = float(loss) * LOG2E
        smooth = b if not np.isfinite(smooth) else 0.98 * smooth + 0.02 * b
        bar.update(bpc=smooth)
    bar.close()
    model.eval()
    model.meta = {
        "task": "text-cnn", "corpus": "code", "corpus_source": train.source, "vocab": vocab.to_meta(),
        "receptive_field": receptive_field(model), "channels": channels, "seed": seed,
        "steps": steps, "batch_size": batch, "window": length, "lr": lr, "train_chars": train.n_chars,
        "final_train_bpc": round(smooth, 4), "train_seconds": round(time.perf_counter() - start, 1),
        "train_cpu_seconds": round(time.process_time() - cpu, 1),
        "input": "one-hot characters (N, 98, L + field - 1), zero columns before the start",
    }
    return model, dict(model.meta, n_params=model.n_params())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.training.text_cnn",
                                description="train a causal dilated char-CNN on the standard library")
    p.add_argument("--field", type=int, required=True, choices=FIELDS)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    model, summary = train_char_cnn(args.field, steps=args.steps, batch=args.batch, seed=args.seed,
                                    progress=not args.quiet)
    model.meta["command"] = (f"python -m explorer.training.text_cnn --field {args.field} --steps "
                             f"{args.steps} --batch {args.batch} --seed {args.seed} --out {args.out}")
    save_model(model, args.out)
    print(json.dumps({**summary, "command": model.meta["command"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
