"""Toy languages: seeded generators with per-step targets, for small readable RNNs and the CNN-vs-RNN lab.

Every generator returns a TaskBatch: x (N, T) int32 ids into the task's alphabet
(`task_vocab(name)`, no unknown symbol), y (N, T) int32 targets, mask (N, T) bool (the
steps that are scored; y is 0 elsewhere).

- parity: bits; y_t = parity of x_0..x_t (0 even, 1 odd). Every step scored. Half the
          sequences are sparse in 1s (long runs of 0s: the parity must be held).
- depth:  Dyck-1 brackets, never below 0, capped at max_depth; y_t = depth after x_t.
- anbn:   blocks a^n b^n (n uniform in [1, n_max]) back to back; at each 'b',
          y_t = 1 if this b is the n-th (the b's end here: the next symbol is not 'b'),
          else 0. 'a' steps are not scored (whether more a's follow is random).
- recall: a key from "ABCD", `distance` filler symbols from "abcdef", then "?";
          only the "?" step is scored: y = the key's index. length = distance + 2.
- motif:  symbols from "abcd"; half the sequences contain `motif` (default "abc"),
          the others provably do not. Scored at the last step only: y = 1 if present.
          dense=True scores every step with "has the motif occurred yet" (a flip-flop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from explorer.data.vocab import Vocab
from explorer.errors import ExplorerError

IntArray = npt.NDArray[np.int32]
RngLike = np.random.Generator | int | None


class TaskError(ExplorerError, ValueError):
    """An unknown task or impossible task settings."""


@dataclass(frozen=True)
class TaskBatch:
    """x: (N, T) int32 ids, y: (N, T) int32 targets, mask: (N, T) bool scored steps."""

    x: IntArray
    y: IntArray
    mask: npt.NDArray[np.bool_]
    n_classes: int


@dataclass(frozen=True)
class Task:
    """A toy language: its input alphabet, output classes and generator."""

    name: str
    alphabet: str
    n_classes: int
    class_names: tuple[str, ...]
    description: str
    default_length: int
    generate: Callable[..., TaskBatch]

    @property
    def vocab(self) -> Vocab:
        return Vocab(self.alphabet, unknown=False)


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _batch(x: np.ndarray, y: np.ndarray, mask: np.ndarray, k: int) -> TaskBatch:
    y = np.where(mask, y, 0)
    return TaskBatch(x.astype(np.int32), y.astype(np.int32), mask.astype(bool), k)


PARITY_SPARSE = (0.005, 0.05)  # the range of p_one in the sparse half (runs of 20-200 zeros)


def gen_parity(n: int, length: int, rng: np.random.Generator,
               p_one: float | None = None) -> TaskBatch:
    """x: (N, T) bits -> y: running parity.

    p_one: the chance of a 1 at each step. None (default) mixes densities: half the
    sequences are fair coin flips, the other half sparse (p_one uniform in PARITY_SPARSE), so
    long runs of 0s occur and the parity must be *held* over them, not only flipped.
    """
    if p_one is None:
        p = np.where(rng.random((n, 1)) < 0.5, 0.5, rng.uniform(*PARITY_SPARSE, size=(n, 1)))
    elif 0.0 <= p_one <= 1.0:
        p = np.full((n, 1), float(p_one))
    else:
        raise TaskError(f"p_one must be between 0 and 1, got {p_one}")
    x = (rng.random((n, length)) < p).astype(np.int32)
    return _batch(x, np.cumsum(x, axis=1) % 2, np.ones_like(x, bool), 2)


def gen_depth(n: int, length: int, rng: np.random.Generator, max_depth: int = 8,
              p_open: float = 0.5) -> TaskBatch:
    """x: (N, T) 0='(' 1=')' -> y: depth after each symbol in 0..max_depth."""
    if max_depth < 1:
        raise TaskError(f"max_depth must be at least 1, got {max_depth}")
    x = np.zeros((n, length), dtype=np.int32)
    y = np.zeros((n, length), dtype=np.int32)
    depth = np.zeros(n, dtype=np.int32)
    coins = rng.random((n, length)) < p_open
    for t in range(length):
        opening = np.where(depth == 0, True, np.where(depth == max_depth, False, coins[:, t]))
        depth = depth + np.where(opening, 1, -1)
        x[:, t] = np.where(opening, 0, 1)
        y[:, t] = depth
    return _batch(x, y, np.ones_like(x, bool), max_depth + 1)


def gen_anbn(n: int, length: int, rng: np.random.Generator, n_max: int = 8) -> TaskBatch:
    """x: (N, T) 0='a' 1='b' -> y: 1 where a 'b' completes its block; scored on 'b' steps."""
    if n_max < 1:
        raise TaskError(f"n_max must be at least 1, got {n_max}")
    x = np.zeros((n, length), dtype=np.int32)
    y = np.zeros((n, length), dtype=np.int32)
    for i in range(n):
        t = 0
        while t < length:
            k = int(rng.integers(1, n_max + 1))
            block = np.r_[np.zeros(k, np.int32), np.ones(k, np.int32)][: length - t]
            x[i, t : t + len(block)] = block
            if len(block) == 2 * k:
                y[i, t + 2 * k - 1] = 1
            t += len(block)
    return _batch(x, y, x == 1, 2)


RECALL_KEYS, RECALL_FILLER = "ABCD", "abcdef"


def gen_recall(n: int, length: int, rng: np.random.Generator,
               distance: int | None = None) -> TaskBatch:
    """x: (N, distance + 2): key, fillers, '?' -> y at the last step: the key (0..3)."""
    distance = length - 2 if distance is None else int(distance)
    if distance < 0:
        raise TaskError(f"recall needs distance >= 0 (length >= 2), got {distance}")
    nk, nf = len(RECALL_KEYS), len(RECALL_FILLER)
    keys = rng.integers(0, nk, size=n)
    x = np.empty((n, distance + 2), dtype=np.int32)
    x[:, 0] = keys
    x[:, 1:-1] = nk + rng.integers(0, nf, size=(n, distance))
    x[:, -1] = nk + nf  # "?"
    mask = np.zeros(x.shape, bool)
    mask[:, -1] = True
    y = np.zeros(x.shape, np.int32)
    y[:, -1] = keys
    return _batch(x, y, mask, nk)


MOTIF_ALPHABET = "abcd"


def contains_motif(x: np.ndarray, motif_ids: np.ndarray) -> npt.NDArray[np.bool_]:
    """x: (N, T) ids, motif_ids: (m,) -> (N, T) bool: the motif ends at or before step t."""
    m = len(motif_ids)
    hit = np.zeros(x.shape, bool)
    if x.shape[1] >= m:
        hit[:, m - 1 :] = (sliding_window_view(x, m, axis=1) == motif_ids).all(-1)
    return np.maximum.accumulate(hit, axis=1)


def gen_motif(n: int, length: int, rng: np.random.Generator, motif: str = "abc",
              dense: bool = False) -> TaskBatch:
    """x: (N, T) ids over 'abcd'; half contain `motif` -> y = 1 (last step, or every step if dense)."""
    vocab = Vocab(MOTIF_ALPHABET, unknown=False)
    if not motif or set(motif) - set(MOTIF_ALPHABET):
        raise TaskError(f"the motif must be made of the letters {MOTIF_ALPHABET!r}, got {motif!r}")
    mids = vocab.encode(motif)
    m, k = len(mids), vocab.size
    if m > length:
        raise TaskError(f"the motif {motif!r} is longer than the sequence length {length}")
    labels = rng.permutation(np.r_[np.ones(n // 2, bool), np.zeros(n - n // 2, bool)])
    x = rng.integers(0, k, size=(n, length))
    for _ in range(10 * length):  # negatives: break every occurrence until none is left
        seen = contains_motif(x, mids)[:, -1]
        if not seen.any():
            break
        rows = np.flatnonzero(seen)
        ends = np.argmax(contains_motif(x[rows], mids), axis=1)
        pos = ends - int(rng.integers(0, m))
        x[rows, pos] = (x[rows, pos] + rng.integers(1, k, size=len(rows))) % k
    starts = rng.integers(0, length - m + 1, size=n)
    for i in np.flatnonzero(labels):
        x[i, starts[i] : starts[i] + m] = mids
    seen = contains_motif(x, mids)
    if dense:
        return _batch(x, seen, np.ones_like(seen), 2)
    mask = np.zeros(x.shape, bool)
    mask[:, -1] = True
    return _batch(x, np.where(mask, seen, False), mask, 2)


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("parity", "01", 2, ("even", "odd"),
             "running parity of the bits so far", 32, gen_parity),
        Task("depth", "()", 9, tuple(str(d) for d in range(9)),
             "Dyck-1 bracket depth after each symbol (max 8)", 40, gen_depth),
        Task("anbn", "ab", 2, ("more b", "last b"),
             "a^n b^n blocks: does this b end its block?", 40, gen_anbn),
        Task("recall", RECALL_KEYS + RECALL_FILLER + "?", 4, tuple(RECALL_KEYS),
             "at '?', recall the first symbol", 20, gen_recall),
        Task("motif", MOTIF_ALPHABET, 2, ("absent", "present"),
             "does the pattern 'abc' occur anywhere?", 30, gen_motif),
    )
}


def get_task(name: str) -> Task:
    """The registered task called `name`; raises TaskError with the choices otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None


def make(task_name: str, n: int, length: int | None = None, rng: RngLike = None,
         **kw: Any) -> TaskBatch:
    """n sequences of `length` (default: the task's) -> TaskBatch(x, y, mask, n_classes)."""
    task = get_task(task_name)
    length = task.default_length if length is None else int(length)
    if n < 1 or length < 1:
        raise TaskError(f"need n >= 1 and length >= 1, got n={n}, length={length}")
    try:
        return task.generate(int(n), length, _rng(rng), **kw)
    except TypeError as exc:
        raise TaskError(f"task {task_name!r}: {exc}") from None


def make_sequences(task_name: str, n: int, length: int | None = None, rng: RngLike = None,
                   **kw: Any) -> tuple[IntArray, IntArray]:
    """Sequence-level classification: x (N, T) int32, y (N,) int32 = the last step's target.

    Defined for tasks whose last step is always scored (parity, depth, recall, motif).
    """
    if kw.get("dense"):
        raise TaskError("make_sequences needs one label per sequence (dense=False)")
    batch = make(task_name, n, length, rng, **kw)
    if not batch.mask[:, -1].all():
        raise TaskError(f"task {task_name!r} has no label for the whole sequence")
    return batch.x, batch.y[:, -1].copy()
