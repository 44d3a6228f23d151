"""A causal character CNN (a dilated Conv1d stack) as a language model of Python code.

Input: one-hot characters, channels first (N, V, L + R - 1). Layers: six causal kernel-2
convolutions with ReLU, whose dilations (``STACKS``) set the receptive field R, then a 1x1
convolution with ReLU (a per-position hidden layer) and a 1x1 convolution to the V logits.
All "valid" (no padding): output t sees exactly inputs t .. t + R - 1 and predicts the
character after them. Causality comes from where the window sits, so the padding is on the
left only: for a stream, R - 1 all-zero columns ("no character yet") go before it.

Trained from scratch (``STACKS``), every field has the same six layers and width (120
channels, about the shipped code LSTM's parameter count) and only the dilations differ. At an
equal budget that made the wider fields read *worse* (six layers spread over 64 characters model
the last 8 less well than six layers spent on them), so the shipped wider CNNs are *grown*
(``--grow-from``, ``grow_char_cnn``): CNN-16 is CNN-8's trained network plus one dilated layer
that starts as the identity, trained on; CNN-32 grew from CNN-16 and CNN-64 from CNN-32. Each
starts exactly where its parent ended and early stopping keeps that start as a candidate, so it
cannot end worse than its parent on validation. Trained by the code LSTM's rules: its corpus
(the standard library and the installed packages, 12 M characters), a budget stated on the model
card, its own learning rate and schedule (Adam, warm-up, cosine decay), and early stopping: the
validation bits per character on a part of the training corpus the CNN never trains on (the last
``STOP_CHARS``) is measured every ``EVAL_EVERY`` steps, and the best weights are kept. The curve,
the steps, the characters seen and the clock (a grown one's counting its ancestors') go into the
model's meta (the Compare lab shows them).

``python -m explorer.training.text_cnn --field 16 --out FILE`` trains one (see the model card).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from typing import Any

import numpy as np

from explorer.data.corpora import load_corpus
from explorer.data.vocab import Vocab
from explorer.engine import Adam, Conv1d, Model, ModelFileError, ReLU, clip_grad_norm, cross_entropy, load_model, log_softmax, save_model
from explorer.engine.layer import Layer
from explorer.training.progress import ProgressBar
from explorer.training.text_models import LOG2E, TrainingError

FIELDS = (8, 16, 32, 64)
TARGET_PARAMS = 195_618      # the shipped code LSTM (Embedding 98x32, LSTM 32->192, Linear 192->98)
#: receptive field -> the causal convolutions of a CNN trained from scratch, as (kernel size,
#: dilation); R = 1 + sum (k-1) d. (The shipped CNN-16/32/64 were grown instead: grow_char_cnn.)
#: Every field has the same six kernel-2 layers, so the same channels and parameters: only the
#: dilations differ, and a wider field is the same network seeing further. Each dilation is at
#: most one more than the span below it, so every position of the field reaches the output.
STACKS: dict[int, tuple[tuple[int, int], ...]] = {
    4: ((2, 1), (2, 1), (2, 1)),            # for quick tests
    8: ((2, 1), (2, 1), (2, 1), (2, 1), (2, 1), (2, 2)),
    16: ((2, 1), (2, 1), (2, 1), (2, 2), (2, 4), (2, 6)),
    32: ((2, 1), (2, 1), (2, 2), (2, 4), (2, 8), (2, 15)),
    64: ((2, 1), (2, 2), (2, 4), (2, 8), (2, 16), (2, 32)),
}
TRAIN_CHARS = 12_000_000     # the code LSTM's corpus cap
STOP_CHARS = 60_000          # the end of the training corpus, kept out of training for early stopping
EVAL_EVERY = 250


def stack_for(field: int) -> tuple[tuple[int, int], ...]:
    if field not in STACKS:
        raise TrainingError(f"the receptive field must be one of {', '.join(map(str, STACKS))}, got {field}")
    return STACKS[field]


def cnn_params(vocab: int, channels: int, field: int) -> int:
    """Parameter count of the stack (weights and biases)."""
    total, c_in = 0, vocab
    for k, _ in stack_for(field):
        total += c_in * channels * k + channels
        c_in = channels
    return total + channels * channels + channels + channels * vocab + vocab


def channels_for(vocab: int, field: int, target: int = TARGET_PARAMS) -> int:
    """The width that brings the stack closest to ``target`` parameters."""
    return min(range(8, 513), key=lambda c: abs(cnn_params(vocab, c, field) - target))


def build_char_cnn(vocab: int, field: int, channels: int, rng: np.random.Generator,
                   meta: dict[str, Any] | None = None, init: str = "torch") -> Model:
    """one-hot (N, V, L + field - 1) -> logits (N, V, L).

    ``init="he"``: every layer before a ReLU drawn from N(0, 2 / fan_in), biases 0 (He et al.),
    so a deep ReLU stack starts with activations of the same scale in every layer (PyTorch's
    default bound, 1/sqrt(fan_in), shrinks them about 2.4x per layer)."""
    layers: list[Layer] = []
    c_in = vocab
    for k, d in stack_for(field):
        layers += [Conv1d(c_in, channels, k, dilation=d, rng=rng), ReLU()]
        c_in = channels
    layers += [Conv1d(channels, channels, 1, rng=rng), ReLU(), Conv1d(channels, vocab, 1, rng=rng)]
    if init == "he":
        for layer in layers[:-1]:
            if isinstance(layer, Conv1d):
                w = layer.params["weight"]
                fan_in = int(np.prod(w.shape[1:]))
                layer.params["weight"] = rng.normal(0.0, math.sqrt(2.0 / fan_in), w.shape).astype(np.float32)
                layer.params["bias"] = np.zeros_like(layer.params["bias"])
    elif init != "torch":
        raise TrainingError(f"init must be 'torch' or 'he', got {init!r}")
    return Model(layers, meta)


def macs_per_char(model: Model) -> int:
    """Multiply-adds to predict one more character of a stream (each layer once per position)."""
    return sum(int(layer.params["weight"].size) for layer in model.layers if layer.type_name == "Conv1d")


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


def window_bits(model: Model, ids: np.ndarray, field: int, length: int = 1024) -> float:
    """Mean bits per character of ids[field:] ... predicted from full windows (validation)."""
    vocab = model.layers[0].in_channels  # type: ignore[attr-defined]
    n = (len(ids) - field) // length
    starts = np.arange(n) * length
    total, count = 0.0, 0
    for s in range(0, n, 8):
        idx = starts[s:s + 8, None] + np.arange(field - 1 + length + 1)
        win = ids[idx]
        logits = model.predict(one_hot(win[:, :-1], vocab))          # (B, V, length)
        lp = log_softmax(logits.transpose(0, 2, 1).astype(np.float64))
        y = win[:, field:]
        total -= float(np.take_along_axis(lp, y[..., None], axis=-1).sum())
        count += y.size
    return total / count * LOG2E


def _lr(base: float, k: int, steps: int, warm: int = 100) -> float:
    """Linear warm-up, then cosine decay from ``base`` to base / 20."""
    if k < warm:
        return base * (k + 1) / warm
    frac = (k - warm) / max(1, steps - warm)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


def grow_char_cnn(parent: Model) -> Model:
    """The parent's network with one more causal kernel-2 layer, dilation = the parent's field R,
    inserted after its last dilated layer's ReLU: the field doubles (R -> 2R) and the function
    on the last R characters is exactly the parent's. The new layer's taps are (older = 0,
    newest = identity) and its bias 0, so it passes its input through unchanged — the input is
    a ReLU's output (>= 0), so the ReLU after it changes nothing either. Training then starts
    where the parent ended."""
    convs = [i for i, layer in enumerate(parent.layers) if layer.type_name == "Conv1d"]
    dilated = [i for i in convs if parent.layers[i].kernel_size > 1]  # type: ignore[attr-defined]
    if len(convs) < 3 or not dilated or parent.layers[dilated[-1] + 1].type_name != "ReLU":
        raise TrainingError("only a char-CNN (dilated convolutions with ReLU, then two 1x1 layers) can grow")
    at = dilated[-1] + 2                                         # after that ReLU
    channels = parent.layers[dilated[-1]].out_channels  # type: ignore[attr-defined]
    field = receptive_field(parent)
    new = Conv1d(channels, channels, 2, dilation=field, rng=np.random.default_rng(0))
    dtype = parent.layers[dilated[-1]].params["weight"].dtype
    weight = np.zeros((channels, channels, 2), dtype)
    weight[:, :, 1] = np.eye(channels, dtype=dtype)              # tap 1 reads the newest position
    new.params["weight"], new.params["bias"] = weight, np.zeros(channels, dtype)
    new.zero_grad()
    layers = [*parent.layers[:at], new, ReLU(), *parent.layers[at:]]
    return Model([copy.deepcopy(layer) for layer in layers], dict(parent.meta))


def _stack_of(model: Model) -> list[list[int]]:
    return [[layer.kernel_size, layer.dilation] for layer in model.layers  # type: ignore[attr-defined]
            if layer.type_name == "Conv1d" and layer.kernel_size > 1]  # type: ignore[attr-defined]


def train_char_cnn(field: int, steps: int = 5000, batch: int = 8, length: int = 512,
                   lr: float = 8e-3, seed: int = 0, train_chars: int = TRAIN_CHARS,
                   channels: int | None = None, progress: bool = True, eval_every: int = EVAL_EVERY,
                   patience: int = 6, init: str = "torch", grow_from: Model | None = None,
                   grow_file: str | None = None) -> tuple[Model, dict[str, Any]]:
    """Train on random windows of the code corpus' training split, keep the weights that read the
    held-back end of it best; stop after ``patience`` evaluations without a new best.

    ``grow_from``: a trained char-CNN of half the field to start from (``grow_char_cnn``); its
    weights before any step are a candidate too, so the result reads the held-back text at least
    as well as the parent. Steps, characters seen, clock and curve then count the parent's
    training as well (the parent's curve first): the effort that went into the whole network.
    -> (model, figures)."""
    vocab = Vocab.text()
    train = load_corpus("code", "train", max_chars=train_chars)
    all_ids = vocab.encode(train.text).astype(np.int64)
    stop_n = min(STOP_CHARS, len(all_ids) // 10)
    ids, stop_ids = all_ids[:-stop_n], all_ids[-stop_n:]
    before: dict[str, Any] = {"steps": 0, "seconds": 0.0, "cpu": 0.0, "curve": []}
    if grow_from is not None:
        pm = grow_from.meta
        if receptive_field(grow_from) * 2 != field:
            raise TrainingError(f"a field of {field} grows from one of {field // 2}, "
                                f"not {receptive_field(grow_from)}")
        if (pm.get("batch_size"), pm.get("window")) != (batch, length):
            raise TrainingError(f"the parent was trained on {pm.get('batch_size')} windows of {pm.get('window')} "
                                f"characters; grow it with the same (--batch, --window)")
        model = grow_char_cnn(grow_from)
        channels = int(pm.get("channels") or model.layers[-1].in_channels)  # type: ignore[attr-defined]
        init = str(pm.get("init", init))
        before = {"steps": int(pm["steps"]), "seconds": float(pm.get("train_seconds") or 0.0),
                  "cpu": float(pm.get("train_cpu_seconds") or 0.0), "curve": [list(p) for p in pm["valid_curve"]]}
        # a stream of windows of its own, not the parent's again
        rng = np.random.default_rng([seed, field])
    else:
        channels = channels or channels_for(vocab.size, field)
        rng = np.random.default_rng(seed)
        model = build_char_cnn(vocab.size, field, channels, rng, init=init)
    opt = Adam(model.parameters(), lr=lr)
    bar = ProgressBar(steps, f"train char-CNN field {field} ({channels} ch)", enabled=progress)
    start, cpu, smooth = time.perf_counter(), time.process_time(), float("nan")
    span = field - 1 + length
    done = before["steps"]
    curve: list[list[float]] = before["curve"]  # [step, characters seen, validation bpc, seconds]
    best: tuple[float, int, dict[str, np.ndarray]] = (math.inf, 0, {})
    start_bpc = math.nan
    if grow_from is not None:                     # the starting point: the parent's function, exactly
        model.eval()
        v = window_bits(model, stop_ids, field)
        best = (v, done, {n: p.copy() for n, p in model.state_dict().items()})
        start_bpc = v
    since_best, k = 0, 0
    for k in range(1, steps + 1):
        opt.lr = _lr(lr, k - 1, steps)
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
        if k % eval_every == 0 or k == steps:
            model.eval()
            v = window_bits(model, stop_ids, field)
            curve.append([done + k, (done + k) * batch * length, round(v, 4),
                          round(before["seconds"] + time.perf_counter() - start, 1)])
            if v < best[0]:
                best, since_best = (v, done + k, {n: p.copy() for n, p in model.state_dict().items()}), 0
            else:
                since_best += 1
                if since_best >= patience:
                    break
    bar.close()
    model.load_state_dict(best[2])
    model.eval()
    total = done + k
    schedule = f"Adam, {lr:g} warmed up over 100 steps, cosine-decayed to {lr / 20:g} over {steps} steps"
    model.meta = {
        "task": "text-cnn", "corpus": "code", "corpus_source": train.source, "vocab": vocab.to_meta(),
        "receptive_field": receptive_field(model), "channels": channels, "seed": seed,
        "stack": _stack_of(model), "init": init,
        "steps": total, "best_step": best[1], "batch_size": batch, "window": length, "lr": lr,
        "schedule": schedule, "train_chars": len(ids), "chars_seen": total * batch * length,
        "stop_chars": int(stop_n), "valid_curve": curve, "valid_bpc_stop": round(best[0], 4),
        "early_stopping": f"best of every {eval_every} steps on the last {stop_n:,} characters of the "
                          f"training corpus (never trained on), patience {patience}"
                          + (", the starting point (the parent) a candidate too" if grow_from is not None else ""),
        "final_train_bpc": round(smooth, 4),
        "train_seconds": round(before["seconds"] + time.perf_counter() - start, 1),
        "train_cpu_seconds": round(before["cpu"] + time.process_time() - cpu, 1), "macs_per_char": macs_per_char(model),
        "input": "one-hot characters (N, 98, L + field - 1), zero columns before the start",
    }
    if grow_from is not None:
        pm = grow_from.meta
        model.meta["grown_from"] = {
            "file": grow_file or "", "receptive_field": receptive_field(grow_from), "steps": before["steps"],
            "valid_bpc_stop": pm.get("valid_bpc_stop"), "schedule": pm.get("schedule"),
            "command": pm.get("command"), "grown_from": pm.get("grown_from")}
        model.meta["own_steps"] = k
        model.meta["valid_bpc_start"] = round(start_bpc, 4)
        model.meta["schedule"] = (f"grown from the field-{field // 2} CNN after its {before['steps']:,} steps "
                                  f"(one more layer, dilation {field // 2}, starting as the identity), then "
                                  f"{schedule}")
    return model, dict(model.meta, n_params=model.n_params())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.training.text_cnn",
                                description="train a causal dilated char-CNN on the standard library")
    p.add_argument("--field", type=int, required=True, choices=FIELDS)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--window", type=int, default=512, help="predicted characters per window")
    p.add_argument("--lr", type=float, default=8e-3)
    p.add_argument("--train-chars", type=int, default=TRAIN_CHARS)
    p.add_argument("--init", choices=("he", "torch"), default="he",
                   help="he: N(0, 2/fan_in) before each ReLU (default); torch: PyTorch's default bound")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grow-from", metavar="FILE",
                   help="start from this trained char-CNN of half the field, exactly its function "
                        "(one more dilated layer, starting as the identity)")
    p.add_argument("--patience", type=int, default=6, help="evaluations without a new best before stopping")
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    parent = None
    if args.grow_from:
        try:
            parent = load_model(args.grow_from)
        except (OSError, ValueError, ModelFileError) as exc:
            p.error(f"cannot read --grow-from: {exc}")
    try:
        model, summary = train_char_cnn(args.field, steps=args.steps, batch=args.batch, length=args.window,
                                        lr=args.lr, seed=args.seed, train_chars=args.train_chars,
                                        progress=not args.quiet, init=args.init, grow_from=parent,
                                        grow_file=args.grow_from and os.path.basename(args.grow_from),
                                        patience=args.patience)
    except TrainingError as exc:
        p.error(str(exc))
    extra = "" if args.train_chars == TRAIN_CHARS else f" --train-chars {args.train_chars}"
    if args.grow_from:
        extra += f" --grow-from {args.grow_from}"
    if args.patience != 6:
        extra += f" --patience {args.patience}"
    model.meta["command"] = (f"python -m explorer.training.text_cnn --field {args.field} --steps "
                             f"{args.steps} --batch {args.batch} --window {args.window} --lr {args.lr:g}{extra} --init {args.init} "
                             f"--seed {args.seed} "
                             f"--out {args.out}")
    save_model(model, args.out)
    print(json.dumps({**summary, "command": model.meta["command"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
