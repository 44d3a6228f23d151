"""Let a recurrent char model write: continue a prime by sampling one character at a time.

The model is ``[layers before] -> RNN | LSTM | GRU -> [layers after]`` (the char models are
Embedding -> cell -> Linear). The prime is read in one run; then each new character is
drawn from softmax(logits / T) restricted to the ``top_k`` most likely ids, fed back in
through the recurrent layer's one-step API, and so on. Temperature 0 is greedy argmax.

Clamp: ``clamp=(U, v)`` sets hidden unit U of h to v in every state the continuation is
predicted from (the state after the prime and after every generated character), the
classic "switch a unit off" (v = 0) experiment. For an LSTM only h is clamped; its cell
state c runs on (h is what the next step and the output layer read).

All randomness comes from ``np.random.default_rng(seed)``: same seed, same text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.data.vocab import Vocab
from explorer.engine.layer import Layer
from explorer.engine.model import Model
from explorer.errors import ExplorerError

State = Any  # (1, H) array, or (h, c) for an LSTM


class GenerateError(ExplorerError, ValueError):
    """Settings that cannot generate (no recurrent layer, bad temperature, unit out of range)."""


@dataclass(frozen=True)
class Step:
    """One generated character: its id, the distribution it was drawn from, the state after it."""

    id: int
    char: str
    probs: np.ndarray       # (V,) float64, after temperature and top-k
    h: np.ndarray           # (H,) hidden state after reading this character (clamp applied)


def split_recurrent(model: Model) -> tuple[list[Layer], Layer, list[Layer]]:
    """(layers before, the one recurrent layer, layers after); GenerateError otherwise."""
    rec = [i for i, layer in enumerate(model.layers) if getattr(layer, "recurrent", False)]
    if len(rec) != 1:
        raise GenerateError(f"generating needs a model with exactly one RNN, LSTM or GRU layer; "
                            f"this one has {len(rec)}")
    i = rec[0]
    return model.layers[:i], model.layers[i], model.layers[i + 1:]


def model_vocab(model: Model) -> Vocab:
    """The vocabulary in the model's meta ("vocab", else a toy "alphabet", else plain text)."""
    meta = model.meta
    if "vocab" in meta:
        return Vocab.from_meta(meta["vocab"])
    if "alphabet" in meta:
        a = meta["alphabet"]
        return Vocab(a if isinstance(a, str) else "".join(a), unknown=False)
    return Vocab.text()


def sample_id(logits: np.ndarray, temperature: float, top_k: int, rng: np.random.Generator
              ) -> tuple[int, np.ndarray]:
    """logits: (V,) -> (chosen id, the (V,) float64 distribution it was drawn from).

    temperature 0: argmax (the distribution is one-hot). top_k > 0 keeps the k largest
    logits (ties at the k-th value kept too); the draw is one uniform number from rng.
    """
    z = np.asarray(logits, np.float64)
    if temperature <= 0:
        i = int(np.argmax(z))
        p = np.zeros_like(z)
        p[i] = 1.0
        return i, p
    z = z / float(temperature)
    if 0 < top_k < len(z):
        kth = np.partition(z, len(z) - top_k)[len(z) - top_k]
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z - z.max())
    p /= p.sum()
    i = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"))
    return min(i, len(p) - 1), p


class Writer:
    """Carries one model's state through a prime and then through its own writing.

    ``Writer(model).read(prime)`` then ``next(writer.write(...))`` per character, or
    ``generate(...)`` below for the whole thing. Qt-free; the GUI drives it from a timer.
    """

    def __init__(self, model: Model, clamp: tuple[int, float] | None = None) -> None:
        self.model = model
        self.pre, self.rec, self.post = split_recurrent(model)
        self.vocab = model_vocab(model)
        self.hidden_size = int(self.rec.hidden_size)  # type: ignore[attr-defined]
        if clamp is not None:
            unit = int(clamp[0])
            if not 0 <= unit < self.hidden_size:
                raise GenerateError(f"unit {unit} does not exist: the model has units "
                                    f"0..{self.hidden_size - 1}")
            if not np.isfinite(float(clamp[1])):
                raise GenerateError(f"a clamp value must be a finite number, got {clamp[1]}")
            clamp = (unit, float(clamp[1]))
        self.clamp = clamp
        self.state: State = None
        self.logits: np.ndarray | None = None   # (V,) prediction for the next character

    def _apply(self, layers: list[Layer], x: np.ndarray) -> np.ndarray:
        for layer in layers:
            fast = getattr(layer, "infer", None)
            x = fast(x) if fast is not None else layer.forward(x)[0]
        return x

    def _h(self) -> np.ndarray:
        return np.asarray(self.state[0] if isinstance(self.state, tuple) else self.state)

    def _clamp(self) -> None:
        if self.clamp is not None and self.state is not None:
            self._h()[:, self.clamp[0]] = self.clamp[1]

    def _predict(self) -> None:
        self.logits = np.asarray(self._apply(self.post, self._h()[:, None, :]), np.float64)[0, -1]

    def _advance(self, ids: np.ndarray) -> None:
        x = self._apply(self.pre, np.asarray(ids, np.int64)[None, :])
        _, self.state, _ = self.rec.run(x, self.state)  # type: ignore[attr-defined]
        if isinstance(self.state, tuple):
            self.state = tuple(np.array(s) for s in self.state)
        self._predict()

    def read(self, prime: str) -> None:
        """Read the prime unclamped (the cursor is at its end); clamp from here on."""
        ids = self.vocab.encode(prime) if prime else np.zeros(0, np.int32)
        if len(ids) == 0:
            self.state = self.rec.initial_state(1, self.rec.dtype)  # type: ignore[attr-defined]
        else:
            self._advance(ids)
        self._clamp()
        self._predict()

    def write(self, n_chars: int, temperature: float = 1.0, top_k: int = 0,
              seed: int | None = 0) -> Iterator[Step]:
        """Yield ``n_chars`` Steps, each drawn from the current prediction and then read."""
        if self.logits is None:
            self.read("")
        check_settings(temperature, top_k, n_chars)
        rng = np.random.default_rng(seed)
        for _ in range(int(n_chars)):
            i, p = sample_id(self.logits, temperature, top_k, rng)  # type: ignore[arg-type]
            self._advance(np.array([i]))
            if self.clamp is not None:
                self._clamp()
                self._predict()
            yield Step(i, self.vocab.symbols[i], p, self._h()[0].copy())


def check_settings(temperature: float, top_k: int, n_chars: int) -> None:
    if not np.isfinite(temperature) or temperature < 0:
        raise GenerateError(f"temperature must be a number >= 0, got {temperature}")
    if int(top_k) < 0:
        raise GenerateError(f"top-k must be 0 (all characters) or positive, got {top_k}")
    if int(n_chars) < 0:
        raise GenerateError(f"the number of characters must be >= 0, got {n_chars}")


def transformer_chars(model: Model, prime: str, n_chars: int, temperature: float = 1.0,
                      top_k: int = 0, seed: int | None = 0) -> Iterator[str]:
    """A char transformer's continuation, one character at a time: the prime read by
    ``TransformerStream``, then one position per generated character (keys and values kept;
    the window rule beyond its context). An empty prime starts from a newline."""
    from explorer.engine.stream import TransformerStream
    check_settings(temperature, top_k, n_chars)
    vocab = model_vocab(model)
    stream = TransformerStream(model)
    ids = vocab.encode(prime or "\n")
    logits = stream.extend(ids, attn=False).logits[-1]
    rng = np.random.default_rng(seed)
    for _ in range(int(n_chars)):
        i, _ = sample_id(logits, temperature, top_k, rng)
        yield vocab.symbols[i]
        logits = stream.extend([i], attn=False).logits[-1]


def generate_transformer(model: Model, prime: str, n_chars: int, temperature: float = 1.0,
                         top_k: int = 0, seed: int | None = 0) -> str:
    """The whole continuation of ``transformer_chars``."""
    return "".join(transformer_chars(model, prime, n_chars, temperature, top_k, seed))


def generate(model: Model, prime: str, n_chars: int, temperature: float = 1.0, top_k: int = 0,
             seed: int | None = 0, clamp: tuple[int, float] | None = None) -> str:
    """The continuation (``n_chars`` characters, without the prime) of ``prime``."""
    check_settings(temperature, top_k, n_chars)
    w = Writer(model, clamp)
    w.read(prime)
    return "".join(s.char for s in w.write(n_chars, temperature, top_k, seed))
