"""CNN vs RNN on the same toy task, trained side by side (seeded, small, ≤ 60 s a run).

*long-range recall*: a key, ``distance`` fillers, then ``?``: answer the key. Both models
answer **at the ``?`` step**: the LSTM from the state it carried through the fillers, the
causal 1-D CNN from what its receptive field covers there (the input is padded on the
left only, so the last output sees exactly the last ``receptive_field()`` symbols).
Within the field the CNN solves it; beyond it the key is invisible and it is at chance
(25 %). Both models see the very same batches: a curriculum whose distances grow from 1
to the target distance over the first 60 % of the steps (without it, an LSTM trained
only at distance 50 does not get off the ground in a few hundred steps).

*local motif*: does ``abc`` occur anywhere? A CNN (Conv1d + global max-pool) finds it
wherever it is with a hundred-odd weights, and keeps working on longer sequences.

The third contender, a small causal **transformer** (``make_transformer``), answers at the
last step too, by attending directly to any earlier symbol of its context (``CONTEXT``
symbols). A longer sequence is read as the Sequence Lab reads it (``explorer.engine.stream``'s
window rule: the last CONTEXT/2 .. CONTEXT symbols), so beyond its context the key falls
out of view and it is at chance, like the CNN beyond its field, only much later.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from explorer.data import tasks
from explorer.engine import (
    GRU,
    LSTM,
    Adam,
    Conv1d,
    Embedding,
    GlobalMaxPool1d,
    LastStep,
    LayerNorm,
    LearnedPositions,
    Linear,
    Model,
    RecurrentLayer,
    ReLU,
    TransformerEncoderLayer,
)
from explorer.engine.layer import Layer, check_ndim
from explorer.engine.stream import window_start
from explorer.training.loop import classifier_step

CNN_KERNEL = 5
CNN_LAYERS = 2
CNN_CHANNELS = 14        # ~1.8 k parameters, like the 16-unit LSTM
RNN_HIDDEN = 16
MOTIF_LR = {"CNN": 1e-2, "LSTM": 1e-2, "Transformer": 3e-3}
RECALL_LR = {"Transformer": 3e-3}
# The transformer: width 8, 2 blocks of 2 heads, feed-forward 16, context 24 symbols
# (~1.6 k parameters, like the CNN and the LSTM): recall within distance 22, not beyond.
TRANSFORMER_WIDTH = 8
TRANSFORMER_HEADS = 2
TRANSFORMER_LAYERS = 2
TRANSFORMER_FF = 16
CONTEXT = 24
MOTIF_CONTEXT = 32       # holds the motif's training length (30)
MOTIF_STEPS = 400
# Conv1d(4, 64, 3) + max-pool + Linear: 962 parameters. With 8-32 kernels the CNN sometimes
# settled on a partial (2-gram) detector, right at length 30 and at chance at 120 (1-3 in 8
# seeds); 64 kernels give it enough lottery tickets (21 of 21 runs tried).
MOTIF_CHANNELS = 64
EMBED = 8
LONG_RANGE_DISTANCES = (1, 2, 4, 7, 8, 10, 20, 35, 50)
MOTIF_LENGTHS = (30, 60, 120)
CHANCE = {"long-range": 0.25, "motif": 0.5}


class TakeLast1d(Layer):
    """x: (N, C, L) -> y: (N, C), the last position: where a causal CNN answers."""

    type_name = "TakeLast1d"

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        check_ndim(self, x, 3, "(N, C, L)")
        return x[:, :, -1].copy(), x.shape

    def backward(self, dy: np.ndarray, cache: Any) -> np.ndarray:
        dx = np.zeros(cache, dtype=dy.dtype)
        dx[:, :, -1] = dy
        return dx


def one_hot(x: np.ndarray, n: int, left_pad: int = 0) -> np.ndarray:
    """x: (N, T) int ids -> (N, n, left_pad + T) float32 one-hot (channels first), zeros on the left."""
    out = np.zeros((x.shape[0], n, left_pad + x.shape[1]), dtype=np.float32)
    np.put_along_axis(out[:, :, left_pad:], x[:, None, :].astype(np.intp), 1.0, axis=1)
    return out


def receptive_field(kernel: int = CNN_KERNEL, layers: int = CNN_LAYERS) -> int:
    """Input positions one output of ``layers`` stacked stride-1 convolutions sees."""
    return layers * (kernel - 1) + 1


@dataclass
class Contender:
    """A named model plus how token ids become its input (ids (N, T) -> model input)."""

    name: str
    model: Model
    encode: Callable[[np.ndarray], np.ndarray]
    kind: str = "cnn"  # "cnn" | "rnn" | "transformer"
    train_seconds: float = 0.0   # wall time spent in train_step so far

    @property
    def n_params(self) -> int:
        return self.model.n_params()


def make_cnn(vocab: int, n_classes: int, channels: int, rng: np.random.Generator,
             global_pool: bool, kernel: int = CNN_KERNEL, layers: int = CNN_LAYERS) -> Contender:
    """ids (N, T) -> logits (N, K). global_pool: Conv1d(k=3) + GlobalMaxPool1d (motif);
    otherwise a causal stack of ``layers`` convolutions read at the last position."""
    if global_pool:
        body: list[Layer] = [Conv1d(vocab, channels, 3, rng=rng), ReLU(), GlobalMaxPool1d()]
        return Contender("CNN", Model(body + [Linear(channels, n_classes, rng=rng)]),
                         lambda x: one_hot(x, vocab), "cnn")
    body = []
    for i in range(layers):
        body += [Conv1d(vocab if i == 0 else channels, channels, kernel, rng=rng), ReLU()]
    body += [TakeLast1d(), Linear(channels, n_classes, rng=rng)]
    pad = receptive_field(kernel, layers) - 1
    return Contender("CNN", Model(body), lambda x: one_hot(x, vocab, pad), "cnn")


def make_rnn(vocab: int, n_classes: int, hidden: int, rng: np.random.Generator,
             cell: str = "lstm") -> Contender:
    """ids (N, T) -> logits (N, K): Embedding -> LSTM|GRU -> LastStep -> Linear.

    An LSTM's forget-gate bias starts at 1 (Gers et al. 2000; Jozefowicz et al. 2015), so
    the cell remembers by default at the start of training.
    """
    rnn = (LSTM if cell == "lstm" else GRU)(EMBED, hidden, rng=rng)
    if cell == "lstm":
        rnn.params["bias_ih_l0"][hidden:2 * hidden] = 1.0
        rnn.params["bias_hh_l0"][hidden:2 * hidden] = 0.0
    model = Model([Embedding(vocab, EMBED, rng=rng), rnn, LastStep(),
                   Linear(hidden, n_classes, rng=rng)])
    return Contender(cell.upper(), model, lambda x: x, "rnn")


def make_transformer(vocab: int, n_classes: int, rng: np.random.Generator,
                     context: int = CONTEXT, width: int = TRANSFORMER_WIDTH,
                     heads: int = TRANSFORMER_HEADS, layers: int = TRANSFORMER_LAYERS,
                     ff: int = TRANSFORMER_FF) -> Contender:
    """ids (N, T) -> logits (N, K): Embedding -> LearnedPositions -> causal blocks -> LayerNorm
    -> LastStep -> Linear. A sequence longer than ``context`` is cut to the window the last
    step is read in (``window_start``), its positions counted from the window's start."""
    body: list[Layer] = [Embedding(vocab, width, rng=rng), LearnedPositions(context, width, rng=rng)]
    body += [TransformerEncoderLayer(width, heads, ff, norm_first=True, rng=rng) for _ in range(layers)]
    body += [LayerNorm(width), LastStep(), Linear(width, n_classes, rng=rng)]

    def window(x: np.ndarray) -> np.ndarray:
        return x[:, window_start(x.shape[1] - 1, context):]

    return Contender("Transformer", Model(body), window, "transformer")


def train_step(c: Contender, opt: Adam, x: np.ndarray, y: np.ndarray, clip: float = 5.0
               ) -> tuple[float, float]:
    """One Adam step on ids x: (N, T), labels y: (N,) -> (loss, batch accuracy) (the one
    ``classifier_step``)."""
    t = time.perf_counter()
    m = classifier_step(c.model, opt, clip, transform=c.encode)((x, y))
    c.train_seconds += time.perf_counter() - t
    return m["loss"], m.get("acc", float("nan"))


def accuracy(c: Contender, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of x: (N, T) ids whose predicted class equals y: (N,)."""
    c.model.eval()
    return float((c.model.predict(c.encode(x)).argmax(-1) == y).mean())


def curriculum_distance(step: int, steps: int, distance: int, rng: np.random.Generator) -> int:
    """A training distance in [1, hi], hi growing from 1 to ``distance`` over 60 % of the steps."""
    hi = max(1, min(distance, int(np.ceil(distance * (step + 1) / max(0.6 * steps, 1)))))
    return int(rng.integers(1, hi + 1)) if distance > 1 else distance


def recall_batch(step: int, steps: int, distance: int, batch: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The curriculum's batch for ``step``: x (batch, d + 2) ids, y (batch,) keys."""
    d = curriculum_distance(step, steps, distance, rng)
    return tasks.make_sequences("recall", batch, d + 2, rng)


def balanced_test(task: str, n: int, length: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """x: (n', length) ids, y: (n',) with every class equally often (n' <= n): a model that
    cannot see the answer then scores chance exactly, whatever constant it guesses."""
    k = tasks.get_task(task).n_classes
    x, y = tasks.make_sequences(task, 2 * n, length, rng)
    per = min(n // k, int(np.bincount(y, minlength=k).min()))
    keep = np.sort(np.concatenate([np.flatnonzero(y == c)[:per] for c in range(k)]))
    return x[keep], y[keep]


def input_influence(c: Contender, x: np.ndarray, target: int) -> np.ndarray:
    """x: (1, T) ids -> (T,) float64: squared norm of d logit[target] / d input at each step.

    Through ``Model.backward``: for the RNN the input is the embedding vector of each step,
    for the CNN the one-hot column. Positions outside the CNN's field get exactly 0.
    Parameter gradients are left as they were.
    """
    x = np.asarray(x)
    layers = c.model.layers
    saved = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    if c.kind == "transformer":              # the window it reads; earlier inputs get 0
        seen = c.encode(x)
        whole = np.zeros(x.shape[1], np.float64)
        whole[x.shape[1] - seen.shape[1]:] = input_influence(
            Contender(c.name, c.model, lambda v: v, "rnn"), seen, target)
        return whole
    try:
        if c.kind == "rnn":
            inp, sub = layers[0].infer(x), Model(layers[1:])
        else:
            inp, sub = c.encode(x), c.model
        out = sub.forward(inp)
        d = np.zeros_like(out)
        d[0, int(target)] = 1.0
        dx = np.asarray(sub.backward(d), np.float64)[0]
    finally:
        for layer, grads in zip(layers, saved):
            layer.grads.update(grads)
    if c.kind == "rnn":
        return (dx ** 2).sum(axis=-1)
    return (dx ** 2).sum(axis=0)[-x.shape[1]:]


@dataclass
class CompareResult:
    task: str
    axis: str  # what the rows vary: "distance" or "length"
    rows: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)
    receptive_field: int = 0
    seconds: float = 0.0
    context: int = 0                                   # the transformer's, in symbols
    train_seconds: dict[str, float] = field(default_factory=dict)
    step_cost: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "axis": self.axis, "rows": self.rows, "params": self.params,
                "cnn_receptive_field": self.receptive_field, "chance": CHANCE[self.task],
                "seconds": round(self.seconds, 2), "transformer_context": self.context,
                "train_seconds": {k: round(v, 2) for k, v in self.train_seconds.items()},
                "step_cost": self.step_cost}


def transformer_rng(seed: int, distance: int) -> np.random.Generator:
    """The transformer's own initial weights, so adding it leaves the CNN's and the LSTM's
    weights and batches exactly as they were."""
    return np.random.default_rng([seed, distance, 3])


def train_recall_pair(distance: int, seed: int = 0, steps: int = 400, batch: int = 32,
                      lr: float = 1e-2, transformer: bool = False) -> tuple[Contender, ...]:
    """A fresh causal CNN and LSTM (and with ``transformer``, a small transformer) trained on
    the same curriculum batches up to ``distance``."""
    task = tasks.get_task("recall")
    vocab, k = len(task.alphabet), task.n_classes
    rng = np.random.default_rng([seed, distance])
    group: tuple[Contender, ...] = (make_cnn(vocab, k, CNN_CHANNELS, rng, global_pool=False),
                                    make_rnn(vocab, k, RNN_HIDDEN, rng))
    if transformer:
        group += (make_transformer(vocab, k, transformer_rng(seed, distance)),)
    opts = [Adam(c.model.parameters(), lr=RECALL_LR.get(c.name, lr)) for c in group]
    for s in range(steps):
        x, y = recall_batch(s, steps, distance, batch, rng)
        for c, opt in zip(group, opts):
            train_step(c, opt, x, y)
    return group


def long_range(seed: int = 0, distances: tuple[int, ...] = LONG_RANGE_DISTANCES,
               steps: int = 400, batch: int = 32, n_test: int = 800,
               progress: Callable[[str], None] | None = None) -> CompareResult:
    """For each distance: train a fresh CNN and LSTM, test both on unseen sequences at it."""
    t0 = time.perf_counter()
    result = CompareResult("long-range", "distance", receptive_field=receptive_field(),
                           context=CONTEXT)
    for d in distances:
        pair = _timed(result, functools.partial(train_recall_pair, d, seed, steps, batch,
                                                transformer=True))
        xt, yt = balanced_test("recall", n_test, d + 2, np.random.default_rng([seed, d, 1]))
        row: dict[str, Any] = {"distance": d, "in_field": d + 2 <= result.receptive_field,
                               "in_context": d + 2 <= CONTEXT}
        for c in pair:
            row[c.name] = accuracy(c, xt, yt)
            result.params[c.name] = c.n_params
        result.rows.append(row)
        if progress:
            progress(f"distance {d}: " + ", ".join(f"{c.name} {row[c.name]:.0%}" for c in pair))
    result.step_cost = step_costs(pair)
    result.seconds = time.perf_counter() - t0
    return result


def _timed(result: CompareResult, train: Callable[[], tuple[Contender, ...]]) -> tuple[Contender, ...]:
    """Run ``train`` and add each contender's training time to the result's."""
    group = train()
    for c in group:
        result.train_seconds[c.name] = result.train_seconds.get(c.name, 0.0) + c.train_seconds
    return group


STEP_COST_LENGTHS = (16, 256, 4096, 65536)


def step_costs(group: tuple[Contender, ...] | list[Contender],
               lengths: tuple[int, ...] = STEP_COST_LENGTHS, repeats: int = 200) -> dict[str, Any]:
    """Milliseconds to read ONE more symbol after ``length`` symbols (median of ``repeats``).

    CNN: one output of its causal stack (its field, whatever the length). LSTM: one step
    from a carried state. Transformer: one position against ``length`` kept keys and
    values per block (``TransformerEncoderLayer.extend``) — as if its context were
    unlimited ("unlimited"); read by the window rule it stops growing at its context
    ("windowed"). A measurement of this machine, printed by ``compare``, never tested."""
    out: dict[str, Any] = {"lengths": list(lengths), "ms": {}, "ms_windowed": {}}
    for c in group:
        unlimited, windowed = [], []
        for n in lengths:
            unlimited.append(_median_ms(_one_more(c, n, windowed=False), repeats))
            windowed.append(_median_ms(_one_more(c, n, windowed=True), repeats)
                            if c.kind == "transformer" else unlimited[-1])
        out["ms"][c.name] = [round(v, 4) for v in unlimited]
        out["ms_windowed"][c.name] = [round(v, 4) for v in windowed]
    return out


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def _one_more(c: Contender, n: int, windowed: bool) -> Callable[[], Any]:
    """A closure that reads one more symbol after ``n`` of them (state prepared outside)."""
    layers = c.model.layers
    x = np.zeros((1, 1), np.int64)
    if c.kind == "rnn":
        rec = cast(RecurrentLayer, layers[1])
        emb = layers[0].infer(cast(Any, x))[:, 0]
        state = rec.initial_state(1)
        return lambda: layers[-1].infer(rec.step(emb, state)[0])
    if c.kind == "cnn":
        seq = np.zeros((1, max(n, 1)), np.int64)
        return lambda: c.model.predict(c.encode(seq[:, -receptive_field():]))
    blocks = [la for la in layers if isinstance(la, TransformerEncoderLayer)]
    ctx = next(la.max_len for la in layers if isinstance(la, LearnedPositions))
    keys = min(n, ctx - 1) if windowed else n
    rng = np.random.default_rng(0)
    caches = []
    for b in blocks:
        cache = b.new_cache(keys + 1)
        cache.k[:] = rng.standard_normal(cache.k.shape)
        cache.v[:] = rng.standard_normal(cache.v.shape)
        caches.append(cache)
    x_new = rng.standard_normal((1, blocks[0].d_model)).astype(np.float32)

    def step() -> Any:
        h = x_new
        for b, cache in zip(blocks, caches):
            cache.n = keys
            h = b.extend(h, cache, want_attn=False)[0]
        return layers[-1].infer(h)
    return step


def motif(seed: int = 0, lengths: tuple[int, ...] = MOTIF_LENGTHS, steps: int = MOTIF_STEPS,
          batch: int = 32, n_test: int = 800,
          progress: Callable[[str], None] | None = None) -> CompareResult:
    """Train once at the first length; test at every length (position invariance)."""
    t0 = time.perf_counter()
    task = tasks.get_task("motif")
    vocab, k = len(task.alphabet), task.n_classes
    rng = np.random.default_rng(seed)
    contenders = [make_cnn(vocab, k, MOTIF_CHANNELS, rng, global_pool=True), make_rnn(vocab, k, RNN_HIDDEN, rng),
                  make_transformer(vocab, k, transformer_rng(seed, 0), context=MOTIF_CONTEXT)]
    opts = [Adam(c.model.parameters(), lr=MOTIF_LR[c.name]) for c in contenders]
    result = CompareResult("motif", "length", receptive_field=3, context=MOTIF_CONTEXT)

    def train() -> tuple[Contender, ...]:
        for _ in range(steps):
            x, y = tasks.make_sequences("motif", batch, lengths[0], rng)
            for c, opt in zip(contenders, opts):
                train_step(c, opt, x, y)
        return tuple(contenders)

    _timed(result, train)
    for length in lengths:
        xt, yt = balanced_test("motif", n_test, length, np.random.default_rng([seed, length]))
        result.rows.append({"length": length, **{c.name: accuracy(c, xt, yt) for c in contenders}})
        if progress:
            progress(f"length {length}: " + ", ".join(f"{c.name} {result.rows[-1][c.name]:.0%}"
                                                       for c in contenders))
    result.params = {c.name: c.n_params for c in contenders}
    result.step_cost = step_costs(contenders)
    result.seconds = time.perf_counter() - t0
    return result


def format_result(r: CompareResult) -> str:
    """A plain-text table: one row per distance (or length), one column per model."""
    names = list(r.params)
    w = {n: max(8, len(n)) for n in names}
    lines = [f"{r.task}: accuracy by {r.axis} (CNN receptive field {r.receptive_field} steps, "
             f"chance {CHANCE[r.task]:.0%})",
             f"{r.axis:>10s} " + " ".join(f"{n:>{w[n]}s}" for n in names)]
    for row in r.rows:
        lines.append(f"{int(row[r.axis]):>10d} " + " ".join(f"{row[n]:>{w[n]}.1%}" for n in names))
    lines.append("parameters " + " ".join(f"{r.params[n]:>{w[n]}d}" for n in names))
    if r.train_seconds:
        lines.append("train (s)  " + " ".join(f"{r.train_seconds.get(n, 0.0):>{w[n]}.1f}" for n in names))
    if r.context:
        lines.append(f"(transformer context: {r.context} symbols)")
    sc = r.step_cost
    if sc:
        lines.append("ms to read one more symbol after n symbols (transformer: unlimited / windowed context)")
        cw = {n: max(16, len(n)) for n in names}
        lines.append(f"{'n':>10s} " + " ".join(f"{n:>{cw[n]}s}" for n in names))
        for i, n in enumerate(sc["lengths"]):
            cells = []
            for name in names:
                ms, mw = sc["ms"][name][i], sc["ms_windowed"][name][i]
                cells.append(f"{ms:.3f} / {mw:.3f}" if ms != mw else f"{ms:.3f}")
            lines.append(f"{n:>10d} " + " ".join(f"{c:>{cw[m]}s}" for c, m in zip(cells, names)))
    lines.append(f"({r.seconds:.1f} s)")
    return "\n".join(lines)


def run_cli(args: argparse.Namespace) -> int:
    """``cnn-rnn-explorer compare --task long-range|motif|text [--json] [--seed N]``.

    ``args.distances`` / ``args.lengths`` / ``args.steps`` (optional, set by ``main`` below)
    shrink the run for tests and quick looks.
    """
    if args.task == "text":                       # CNN vs RNN on real text (shipped models)
        from explorer.training.compare_text import format_text_result, text_compare
        chars = getattr(args, "chars", None)
        res = text_compare(int(chars) if chars else None)
        print(json.dumps(res, indent=2) if args.json else format_text_result(res))
        return 0
    say = None if args.json else (lambda s: print(s, file=sys.stderr, flush=True))
    seed = getattr(args, "seed", 0)
    kw: dict[str, Any] = {}
    if getattr(args, "steps", None):
        kw["steps"] = int(args.steps)
    if args.task == "long-range":
        if getattr(args, "distances", None):
            kw["distances"] = tuple(args.distances)
        result = long_range(seed, progress=say, **kw)
    else:
        if getattr(args, "lengths", None):
            kw["lengths"] = tuple(args.lengths)
        result = motif(seed, progress=say, **kw)
    print(json.dumps(result.to_json(), indent=2) if args.json else format_result(result))
    return 0


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    """``python -m explorer.training.compare``: the CLI's experiment plus size knobs."""
    p = argparse.ArgumentParser(prog="python -m explorer.training.compare")
    p.add_argument("--task", choices=["long-range", "motif", "text"], required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--distances", type=_ints, default=None, help="e.g. 1,4,12")
    p.add_argument("--lengths", type=_ints, default=None, help="e.g. 20,40")
    p.add_argument("--chars", type=int, default=None, help="text: held-out characters to read")
    return run_cli(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
