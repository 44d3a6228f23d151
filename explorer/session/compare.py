"""The Compare lab's Qt-free half.

``Duel``: a CNN, an LSTM and a transformer trained step by step on the same batches of one
toy task (long-range recall at a chosen distance, or the local motif), with what the panels
draw: accuracy against distance (or length), on one sample sequence the CNN's receptive
field next to each network's measured memory (gradient influence through ``Model.backward``),
each one's training time and the cost of reading one more symbol as the sequence grows.

``DigitPair``: the digit CNN and the row-by-row RNN on the same 28×28 drawing —
probabilities, the RNN's hidden trajectory over the 28 rows, accuracy and size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from explorer.analysis.step_cost import context_of, cost_curve
from explorer.data import tasks
from explorer.engine import Adam, Model, RecurrentLayer, softmax
from explorer.training import compare as C

RECALL_GRID = (1, 2, 4, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50, 60)
MOTIF_GRID = (10, 20, 30, 45, 60, 90, 120)
MOTIF_TRAIN_LENGTH = 30
TASKS = {"recall": "Long-range recall", "motif": "Local motif"}
COST_LENGTHS = (1, 8, 16, 32, 64, 128, 256, 512, 1024)   # sequence lengths of the step-cost plot


class Duel:
    """Both contenders on ``task`` ("recall" at ``distance``, or "motif"); ``step()`` trains both."""

    def __init__(self, task: str = "recall", distance: int = 20, steps: int = 400,
                 seed: int = 0, batch: int = 32) -> None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose recall or motif")
        self.task, self.distance, self.steps, self.batch = task, int(distance), int(steps), batch
        spec = tasks.get_task(task)
        vocab, k = len(spec.alphabet), spec.n_classes
        self.alphabet = spec.alphabet
        self.rng = np.random.default_rng([seed, self.distance])
        if task == "recall":
            cnn = C.make_cnn(vocab, k, C.CNN_CHANNELS, self.rng, global_pool=False)
            self.field = C.receptive_field()
        else:
            cnn = C.make_cnn(vocab, k, C.MOTIF_CHANNELS, self.rng, global_pool=True)
            self.field = 3
        context = C.CONTEXT if task == "recall" else C.MOTIF_CONTEXT
        self.pair = (cnn, C.make_rnn(vocab, k, C.RNN_HIDDEN, self.rng),
                     C.make_transformer(vocab, k, C.transformer_rng(seed, self.distance), context))
        lrs = C.MOTIF_LR if task == "motif" else C.RECALL_LR
        self.opts = [Adam(c.model.parameters(), lr=lrs.get(c.name, 1e-2)) for c in self.pair]
        self.step_count = 0
        self.sample_x, self.sample_y = self._sample(seed)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.pair]

    @property
    def n_params(self) -> dict[str, int]:
        return {c.name: c.n_params for c in self.pair}

    @property
    def seconds(self) -> dict[str, float]:
        """name -> wall-clock time its training steps took so far."""
        return {c.name: c.train_seconds for c in self.pair}

    @property
    def kinds(self) -> dict[str, str]:
        """name -> "cnn" | "rnn" | "transformer"."""
        return {c.name: c.kind for c in self.pair}

    @property
    def context(self) -> int | None:
        """How many symbols the transformer sees (its learned positions), None without one."""
        for c in self.pair:
            ctx = context_of(c.model.layers)
            if ctx is not None:
                return ctx
        return None

    def step_costs(self, lengths: tuple[int, ...] = COST_LENGTHS, windowed: bool = True
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """-> (lengths (G,), name -> multiply-adds to read one more symbol after that many (G,)).
        ``windowed=False``: the transformer as if its context were unlimited."""
        return (np.asarray(lengths, np.float64),
                {c.name: np.asarray(cost_curve(c.model, lengths, windowed), np.float64) for c in self.pair})

    def _sample(self, seed: int) -> tuple[np.ndarray, int]:
        rng = np.random.default_rng([seed, 7])
        if self.task == "recall":
            x, y = tasks.make_sequences("recall", 1, self.distance + 2, rng)
        else:
            x, y = tasks.make_sequences("motif", 8, MOTIF_TRAIN_LENGTH, rng)
            x, y = x[np.argmax(y)][None], y[np.argmax(y)][None]   # one that contains the motif
        return x, int(y[0])

    def batch_data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.task == "recall":
            return C.recall_batch(self.step_count, self.steps, self.distance, self.batch, self.rng)
        return tasks.make_sequences("motif", self.batch, MOTIF_TRAIN_LENGTH, self.rng)

    def step(self) -> dict[str, tuple[float, float]]:
        """One Adam step of both models on the same batch -> name -> (loss, batch accuracy)."""
        x, y = self.batch_data()
        out = {c.name: C.train_step(c, opt, x, y) for c, opt in zip(self.pair, self.opts)}
        self.step_count += 1
        return out

    def done(self) -> bool:
        return self.step_count >= self.steps

    def accuracy_curve(self, n: int = 120, seed: int = 3) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """-> (distances or lengths (G,), name -> accuracies (G,)) on balanced fresh sequences."""
        grid = RECALL_GRID if self.task == "recall" else MOTIF_GRID
        accs: dict[str, list[float]] = {c.name: [] for c in self.pair}
        for g in grid:
            length = g + 2 if self.task == "recall" else g
            x, y = C.balanced_test(self.task, n, length, np.random.default_rng([seed, g]))
            for c in self.pair:
                accs[c.name].append(C.accuracy(c, x, y))
        return np.asarray(grid, np.float64), {k: np.asarray(v) for k, v in accs.items()}

    def influence(self) -> dict[str, np.ndarray]:
        """name -> (T,) influence of each input of the sample on the answer, scaled to max 1."""
        out = {}
        for c in self.pair:
            g = np.sqrt(C.input_influence(c, self.sample_x, self.sample_y))
            out[c.name] = g / g.max() if g.max() > 0 else g
        return out

    def field_span(self, cnn_influence: np.ndarray | None = None) -> tuple[int, int]:
        """[start, stop) positions of the sample the CNN's answer can see (one window for motif)."""
        t = self.sample_x.shape[1]
        if self.task == "recall":
            return max(0, t - self.field), t
        centre = int(np.argmax(cnn_influence)) if cnn_influence is not None and cnn_influence.any() else t // 2
        start = min(max(0, centre - 1), t - self.field)
        return start, start + self.field

    def sample_text(self) -> str:
        return "".join(self.alphabet[i] for i in self.sample_x[0])


@dataclass
class DigitPair:
    """cnn takes (N, 1, 28, 28), rnn takes (N, 28, 28); both output 10 logits."""

    cnn: Model
    rnn: Model
    basis: np.ndarray | None = None   # (2, H) principal axes of the RNN's hidden states
    mean: np.ndarray | None = None

    def probabilities(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """img: (28, 28) float in [0, 1] -> (p_cnn (10,), p_rnn (10,))."""
        img = np.asarray(img, np.float32).reshape(28, 28)
        p_cnn = softmax(self.cnn.predict(img[None, None]))[0]
        p_rnn = softmax(self.rnn.predict(img[None]))[0]
        return p_cnn.astype(np.float32), p_rnn.astype(np.float32)

    def hidden(self, imgs: np.ndarray) -> np.ndarray:
        """imgs: (N, 28, 28) -> the recurrent layer's states (N, 28, H) row by row."""
        x = np.asarray(imgs, np.float32)
        for layer in self.rnn.layers:
            if isinstance(layer, RecurrentLayer):
                return layer.run(x)[0]
            x = layer.forward(x)[0]
        raise ValueError("the row model has no recurrent layer")

    def fit_basis(self, imgs: np.ndarray) -> None:
        """Principal axes of the hidden states of sample digits (fitted once, then frozen)."""
        hs = self.hidden(imgs).reshape(-1, self.hidden(imgs[:1]).shape[-1]).astype(np.float64)
        self.mean = hs.mean(axis=0)
        _, _, vt = np.linalg.svd(hs - self.mean, full_matrices=False)
        self.basis = vt[:2]

    def trajectory(self, img: np.ndarray) -> np.ndarray:
        """img: (28, 28) -> (28, 2) hidden state after each row on the 2 principal axes."""
        hs = self.hidden(np.asarray(img, np.float32).reshape(1, 28, 28))[0].astype(np.float64)
        if self.basis is None:
            self.fit_basis(np.asarray(img, np.float32).reshape(1, 28, 28))
        assert self.basis is not None
        return cast("np.ndarray", ((hs - self.mean) @ self.basis.T).astype(np.float32))

    def info(self) -> dict[str, dict[str, object]]:
        """name -> {"params", "val_acc" (or None), "reads"}."""
        return {"CNN": {"params": self.cnn.n_params(), "val_acc": self.cnn.meta.get("val_acc"),
                        "reads": "the whole 28×28 image at once, 3×3 kernels slid over space"},
                "Row-RNN": {"params": self.rnn.n_params(), "val_acc": self.rnn.meta.get("val_acc"),
                            "reads": "28 rows of 28 pixels, one row per time step"}}


# -- digits three ways: the held-out-writer figures the Compare lab shows ---------------------
THREE_WAYS_FORMAT = "cnn-rnn-explorer/digits-three-ways"
ROBUSTNESS = ("reversed", "permuted", "stroke_left_out", "shift", "scale", "rotate", "thicker")
READS = ("picture", "rows", "pen")


class ThreeWaysError(ValueError):
    """A digits-three-ways file that cannot be shown; one sentence."""


@dataclass(frozen=True)
class ThreeWays:
    """heldout: {"description", "writers", "digits", "sources"}; models: one dict per model
    ({"name", "reads", "file", "params", "accuracy", "per_digit", "ms_per_reading", "robustness"});
    command: how the file is made again."""

    heldout: dict[str, object]
    models: tuple[dict[str, object], ...]
    command: str

    def model(self, name: str) -> dict[str, object] | None:
        return next((m for m in self.models if m["name"] == name), None)


def three_ways_path() -> str:
    from explorer.paths import resources_dir
    return str(resources_dir() / "compare" / "digits_three_ways.json")


def load_three_ways(path: str | None = None) -> ThreeWays:
    """Read and check a digits-three-ways JSON file (``training.three_ways`` writes it);
    ThreeWaysError with one sentence for anything missing, damaged or of the wrong shape."""
    import json
    import math
    from pathlib import Path
    p = Path(path or three_ways_path())
    try:
        if p.stat().st_size > 4 << 20:
            raise ThreeWaysError(f"{p.name} is too large to be the three-ways figures")
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThreeWaysError(f"{p.name} is not there (make it: cnn-rnn-explorer compare --task digits-three-ways ...)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ThreeWaysError(f"{p.name} cannot be read ({type(exc).__name__})") from None

    def bad(why: str) -> ThreeWaysError:
        return ThreeWaysError(f"{p.name}: {why}")

    def fraction(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0.0 <= v <= 1.0

    if not isinstance(doc, dict) or doc.get("format") != THREE_WAYS_FORMAT or doc.get("version") != 1:
        raise bad("not a digits-three-ways file (format / version)")
    held, models = doc.get("heldout"), doc.get("models")
    if not isinstance(held, dict) or not isinstance(models, list) or not models:
        raise bad("no held-out description or no models")
    rows = []
    for m in models:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or m.get("reads") not in READS:
            raise bad("a model without a name or with an unknown input")
        rob = m.get("robustness")
        per = m.get("per_digit")
        if not fraction(m.get("accuracy")) or not isinstance(per, list) or len(per) != 10 \
                or not all(fraction(v) for v in per) or not isinstance(rob, dict) \
                or not all(fraction(rob.get(k)) for k in ROBUSTNESS):
            raise bad(f"{m['name']}: accuracies must be fractions 0..1 (accuracy, 10 per digit, {len(ROBUSTNESS)} changes)")
        params, ms = m.get("params"), m.get("ms_per_reading")
        if not isinstance(params, int) or isinstance(params, bool) or params < 0 \
                or not isinstance(ms, (int, float)) or isinstance(ms, bool) or not math.isfinite(ms) or ms < 0:
            raise bad(f"{m['name']}: parameters and ms per reading must be non-negative numbers")
        rows.append(dict(m))
    return ThreeWays(dict(held), tuple(rows), str(doc.get("command", "")))
