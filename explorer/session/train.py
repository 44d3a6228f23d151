"""The Train lab's Qt-free half: model kinds, architecture presets, data sources, and a
``TrainJob`` holding everything ``explorer.training.loop.fit`` needs plus the pictures the
lab draws while it learns (first-layer kernels of a CNN, a hidden-state trajectory of an RNN).

Kinds (the models the app knows): ``digits-cnn``, ``digits-rowrnn``, ``toy`` (a small
recurrent model on a toy language) and ``text`` (a character-level model on a corpus).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from explorer.data import tasks
from explorer.engine import (
    GRU,
    LSTM,
    RNN,
    SGD,
    Adam,
    Conv2d,
    Flatten,
    LastStep,
    Linear,
    MaxPool2d,
    Model,
    RecurrentLayer,
    ReLU,
)
from explorer.errors import ExplorerError
from explorer.training.loop import classifier_step, evaluate_classifier

Batch = tuple[Any, ...]          # (x, y, mask) of one training step

KINDS = {"digits-cnn": "Digit CNN", "digits-rowrnn": "Row-RNN (digits)",
         "toy": "Toy language model", "text": "Text model (characters)"}
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "digits-cnn": {"LeNet-style (shipped)": {"arch": "lenet"}, "Tiny CNN (4 kernels)": {"arch": "tiny"}},
    "digits-rowrnn": {"LSTM 64 (shipped)": {"cell": "lstm", "hidden": 64},
                      "LSTM 16": {"cell": "lstm", "hidden": 16}, "GRU 32": {"cell": "gru", "hidden": 32}},
    "toy": {"GRU 8": {"cell": "gru", "hidden": 8, "embed": 4}, "LSTM 16": {"cell": "lstm", "hidden": 16, "embed": 8},
            "RNN 8": {"cell": "rnn", "hidden": 8, "embed": 4}},
    "text": {"LSTM 64": {"cell": "lstm", "hidden": 64, "embed": 16}, "GRU 64": {"cell": "gru", "hidden": 64, "embed": 16}},
}
DATA = {"digits-cnn": ["MNIST (best on this machine)"], "digits-rowrnn": ["MNIST (best on this machine)"],
        "toy": list(tasks.TASKS), "text": ["code", "prose"]}
CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
TEXT_CHARS = 200_000   # characters of the corpus the lab trains on (quick to load)
TEXT_SEQ = 64


class TrainSetupError(ExplorerError, ValueError):
    """Settings that cannot make a training run (unknown kind, preset, data or optimiser)."""


@dataclass(frozen=True)
class TrainConfig:
    kind: str = "toy"
    preset: str = "GRU 8"
    data: str = "parity"
    optimizer: str = "Adam"  # Adam | SGD
    lr: float = 1e-2
    batch_size: int = 32
    epochs: int = 5
    steps_per_epoch: int = 100
    seed: int = 0
    clip: float = 1.0        # max gradient norm; 0 = no clipping (lets a too-high lr blow up)

    def checked(self) -> TrainConfig:
        if self.kind not in KINDS:
            raise TrainSetupError(f"unknown model kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.preset not in PRESETS[self.kind]:
            raise TrainSetupError(f"no preset {self.preset!r} for {KINDS[self.kind]}")
        if self.data not in DATA[self.kind]:
            raise TrainSetupError(f"{KINDS[self.kind]} cannot train on {self.data!r}")
        if self.optimizer not in ("Adam", "SGD"):
            raise TrainSetupError(f"unknown optimiser {self.optimizer!r}; choose Adam or SGD")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise TrainSetupError(f"the learning rate must be a positive number, got {self.lr}")
        if not self.clip >= 0:
            raise TrainSetupError(f"gradient clipping must be 0 (off) or positive, got {self.clip}")
        if min(self.batch_size, self.epochs, self.steps_per_epoch) < 1:
            raise TrainSetupError("batch size, epochs and steps per epoch must be at least 1")
        return self


def default_config(kind: str) -> TrainConfig:
    """Sensible settings for each kind (the lab's starting values)."""
    base: dict[str, Any] = {"digits-cnn": dict(lr=3e-3, batch_size=64, epochs=3, steps_per_epoch=60, clip=5.0),
            "digits-rowrnn": dict(lr=3e-3, batch_size=64, epochs=3, steps_per_epoch=60, clip=5.0),
            "toy": dict(lr=1e-2, batch_size=32, epochs=5, steps_per_epoch=100),
            "text": dict(lr=3e-3, batch_size=32, epochs=3, steps_per_epoch=100)}[kind]
    return TrainConfig(kind=kind, preset=next(iter(PRESETS[kind])), data=DATA[kind][0], **base)


def build_model(cfg: TrainConfig, n_in: int = 0, n_out: int = 0) -> Model:
    """A fresh seeded model for ``cfg`` (n_in / n_out: vocabulary and classes of sequence kinds)."""
    rng, p = np.random.default_rng(cfg.seed), PRESETS[cfg.kind][cfg.preset]
    if cfg.kind == "digits-cnn":
        if p["arch"] == "lenet":
            from explorer.training.digits import build_model as digit_model
            return digit_model("cnn", cfg.seed)
        return Model([Conv2d(1, 4, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(4 * 14 * 14, 10, rng=rng)])
    if cfg.kind == "digits-rowrnn":
        h = p["hidden"]
        return Model([CELLS[p["cell"]](28, h, rng=rng), LastStep(), Linear(h, 10, rng=rng)])
    from explorer.training.text_models import build_sequence_model
    return build_sequence_model(n_in, n_out, p["cell"], p["hidden"], p["embed"], rng)


@dataclass
class TrainJob:
    """model + step_fn + batches + val_fn for ``fit``, and the probe that feeds the pictures."""

    cfg: TrainConfig
    model: Model
    step_fn: Callable[[Any], dict[str, float]]
    batches: Callable[[int], Iterator[Any]]
    val_fn: Callable[[], dict[str, float]]
    probe: np.ndarray                     # a fixed input for the trajectory picture
    meta: dict[str, Any]

    @property
    def total_steps(self) -> int:
        return self.cfg.epochs * self.cfg.steps_per_epoch

    def snapshot(self) -> dict[str, np.ndarray]:
        """{"kernels": (C, k, k)} for a CNN, {"trajectory": (T, 2)} for a recurrent model."""
        return picture(self.model, self.probe)

    def rebuilt(self) -> TrainJob:
        return make_job(replace(self.cfg))


def picture(model: Model, probe: np.ndarray) -> dict[str, np.ndarray]:
    """First-layer kernels (C, k, k) of a CNN, or the probe's hidden states on their 2 principal axes."""
    first = model.layers[0]
    if isinstance(first, Conv2d):
        return {"kernels": np.ascontiguousarray(first.params["weight"][:, 0], np.float32)}
    x = probe
    for layer in model.layers:
        if isinstance(layer, RecurrentLayer):
            hs = layer.run(x)[0][0].astype(np.float64)   # (T, H) of the first probe
            return {"trajectory": project2(hs)}
        x = layer.infer(x)
    return {}


def project2(hs: np.ndarray) -> np.ndarray:
    """hs: (T, H) -> (T, 2) float32 on the two principal axes (signs fixed: the end has x >= 0)."""
    c = hs - hs.mean(axis=0)
    if hs.shape[1] < 2 or not np.isfinite(c).all():
        return np.zeros((len(hs), 2), np.float32)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    xy = c @ vt[:2].T
    xy *= np.where(xy[-1] < 0, -1.0, 1.0)
    return cast("np.ndarray", xy.astype(np.float32))


def _optimizer(cfg: TrainConfig, model: Model) -> Any:
    params = model.parameters()
    return Adam(params, lr=cfg.lr) if cfg.optimizer == "Adam" else SGD(params, lr=cfg.lr, momentum=0.9)


def _digits_job(cfg: TrainConfig) -> TrainJob:
    from explorer.data.mnist import load_digits, split_indices
    from explorer.training.digits import model_input
    arch = "cnn" if cfg.kind == "digits-cnn" else "rowrnn"
    data = load_digits()
    x = (data.x_train.astype(np.float32) / 255.0)[:, None]
    tr, va = split_indices(data.y_train, 0.15, 0)        # the digit models' held-out split
    x_tr, y_tr = x[tr], data.y_train[tr]
    x_va, y_va = x[va[:500]], data.y_train[va[:500]]     # a quick validation after each epoch
    model = build_model(cfg)
    opt = _optimizer(cfg, model)
    rng = np.random.default_rng([cfg.seed, 1])

    def batches(_epoch: int) -> Iterator[Any]:
        order = rng.permutation(len(x_tr))
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            yield model_input(x_tr[idx], arch), y_tr[idx]

    probe = model_input(x_va[:1], arch)
    meta = {"task": "digits", "arch": arch, "data": data.source, "classes": [str(d) for d in range(10)]}
    return TrainJob(cfg, model, classifier_step(model, opt, clip=cfg.clip or None), batches,
                    lambda: evaluate_classifier(model, model_input(x_va, arch), y_va), probe, meta)


def _sequence_data(cfg: TrainConfig) -> tuple[int, int, Callable[[np.random.Generator], Batch], dict[str, Any]]:
    """-> (n_in, n_out, draw(rng) -> (x, y, mask) batch, meta) for the toy and text kinds."""
    if cfg.kind == "toy":
        spec = tasks.get_task(cfg.data)

        def draw_toy(rng: np.random.Generator) -> Batch:
            b = tasks.make(cfg.data, cfg.batch_size, spec.default_length, rng)
            return b.x, b.y, b.mask

        meta = {"task": "toy", "toy_task": cfg.data, "alphabet": spec.alphabet,
                "classes": list(spec.class_names), "description": spec.description,
                "vocab": spec.vocab.to_meta()}
        return len(spec.alphabet), spec.n_classes, draw_toy, meta
    from explorer.data.corpora import load_corpus
    from explorer.data.vocab import Vocab
    vocab = Vocab.text()
    ids = vocab.encode(load_corpus(cfg.data, "train", max_chars=TEXT_CHARS).text)

    def draw_text(rng: np.random.Generator) -> Batch:
        starts = rng.integers(0, len(ids) - TEXT_SEQ - 1, size=cfg.batch_size)
        window = ids[starts[:, None] + np.arange(TEXT_SEQ + 1)]
        return window[:, :-1], window[:, 1:], np.ones((cfg.batch_size, TEXT_SEQ), bool)

    meta = {"task": "text", "corpus": cfg.data, "vocab": vocab.to_meta()}
    return vocab.size, vocab.size, draw_text, meta


def _sequence_job(cfg: TrainConfig) -> TrainJob:
    n_in, n_out, draw, meta = _sequence_data(cfg)
    p = PRESETS[cfg.kind][cfg.preset]
    meta.update(cell=p["cell"], hidden=p["hidden"], embed=p["embed"])
    model = build_model(cfg, n_in, n_out)
    opt = _optimizer(cfg, model)
    rng = np.random.default_rng([cfg.seed, 1])
    x_va, y_va, m_va = draw(np.random.default_rng([cfg.seed, 2]))

    def batches(_epoch: int) -> Iterator[Any]:
        for _ in range(cfg.steps_per_epoch):
            yield draw(rng)

    return TrainJob(cfg, model, classifier_step(model, opt, clip=cfg.clip or None), batches,
                    lambda: evaluate_classifier(model, x_va, y_va, m_va), x_va[:1], meta)


def make_job(cfg: TrainConfig) -> TrainJob:
    """Build model, optimiser and data for ``cfg`` (raises TrainSetupError / DataSourceError)."""
    cfg = cfg.checked()
    job = _digits_job(cfg) if cfg.kind.startswith("digits") else _sequence_job(cfg)
    job.model.meta = {**job.meta, "trained_in": "Train lab", "preset": cfg.preset,
                      "optimizer": cfg.optimizer, "lr": cfg.lr, "batch_size": cfg.batch_size, "clip": cfg.clip,
                      "seed": cfg.seed}
    return job
