"""A smoothed character n-gram model: the classic yardstick a char-RNN must beat.

Interpolated modified Kneser-Ney (Chen & Goodman 1998) over a character Vocab:

    P(w | h) = max(c(hw) - D(c(hw)), 0) / c(h) + gamma(h) * P(w | h')
    gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3 N3+(h.)) / c(h)

where h' drops the oldest character of h, the highest order uses raw counts c and
lower orders use continuation counts (how many distinct characters precede h'w),
D1, D2, D3 come from the count-of-counts of each order, and the order-0 distribution
is interpolated with the uniform 1/V, so no character ever has probability 0. An
unseen context h falls back to P(w | h').

Every n-gram is an int64 key (base-V digits, oldest character most significant), and
the counts are sorted arrays looked up with np.searchsorted, so fitting and scoring are
vectorised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from explorer.data.vocab import Vocab


def _keys(ids: np.ndarray, m: int, base: int) -> npt.NDArray[np.int64]:
    """ids: (n,) -> (n - m + 1,) int64 keys of every m-gram."""
    key = np.zeros(len(ids) - m + 1, dtype=np.int64)
    for j in range(m):
        key = key * base + ids[j : len(ids) - m + 1 + j]
    return key


def _lookup(table: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[i] where table[i] == query, else 0 (table sorted, unique)."""
    if len(table) == 0:
        return np.zeros(len(queries), dtype=values.dtype)
    idx = np.minimum(np.searchsorted(table, queries), len(table) - 1)
    return np.where(table[idx] == queries, values[idx], 0)


class _Level:
    """Counts of one order: m-gram keys -> count, and per-context totals and discount mass."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray, base: int) -> None:
        self.keys, self.counts = keys, counts.astype(np.float64)
        n = [int((counts == r).sum()) for r in (1, 2, 3, 4)]
        y = n[0] / (n[0] + 2 * n[1]) if n[0] and n[1] else 0.5
        d = [1 - 2 * y * n[1] / n[0] if n[0] else 0.5,
             2 - 3 * y * n[2] / n[1] if n[1] else 1.0,
             3 - 4 * y * n[3] / n[2] if n[2] else 1.5]
        self.d = np.clip(np.array(d), 0.05, [0.95, 1.95, 2.95])
        ctx = keys // base
        self.ctx_keys, inv = np.unique(ctx, return_inverse=True)
        self.ctx_total = np.bincount(inv, weights=self.counts)
        disc = self.d[np.minimum(counts, 3) - 1]
        self.ctx_gamma_mass = np.bincount(inv, weights=disc)

    def discount(self, c: np.ndarray) -> np.ndarray:
        return np.where(c > 0, self.d[np.clip(c, 1, 3).astype(np.int64) - 1], 0.0)


class NGramModel:
    """Character n-gram of `order` (context = order - 1 characters) with modified Kneser-Ney."""

    def __init__(self, order: int = 5, vocab: Vocab | None = None) -> None:
        if not 1 <= order <= 9:
            raise ValueError(f"order must be between 1 and 9 (int64 keys), got {order}")
        self.order = order
        self.vocab = vocab or Vocab.text()
        self.levels: list[_Level] = []

    def fit(self, text: str) -> NGramModel:
        """Count every 1..order-gram of `text` (str); returns self."""
        ids = self.vocab.encode(text).astype(np.int64)
        if len(ids) < self.order:
            raise ValueError(f"need at least {self.order} characters to fit, got {len(ids)}")
        base = self.vocab.size
        self.levels = []
        for m in range(1, self.order + 1):
            if m == self.order:  # highest order: raw counts
                keys, counts = np.unique(_keys(ids, m, base), return_counts=True)
            else:  # continuation counts: distinct left neighbours of each m-gram
                longer = np.unique(_keys(ids, m + 1, base))
                keys, counts = np.unique(longer % base**m, return_counts=True)
            self.levels.append(_Level(keys, counts, base))
        return self

    def _probs(self, hist: np.ndarray, nxt: np.ndarray) -> npt.NDArray[np.float64]:
        """hist: (N, order-1) ids, -1 = before the text; nxt: (N,) -> P(nxt | hist): (N,)."""
        if not self.levels:
            raise RuntimeError("fit the model before scoring")
        base = self.vocab.size
        p = np.full(len(nxt), 1.0 / base)
        ctx_key = np.zeros(len(nxt), dtype=np.int64)
        valid = np.ones(len(nxt), dtype=bool)
        for m, level in enumerate(self.levels, start=1):
            if m > 1:  # extend the context one character further back
                c = hist[:, hist.shape[1] - (m - 1)]
                valid &= c >= 0
                ctx_key = ctx_key + np.maximum(c, 0) * base ** (m - 2)
            total = _lookup(level.ctx_keys, level.ctx_total, ctx_key)
            mass = _lookup(level.ctx_keys, level.ctx_gamma_mass, ctx_key)
            cnt = _lookup(level.keys, level.counts, ctx_key * base + nxt)
            use = valid & (total > 0)
            safe = np.where(use, total, 1.0)
            mixed = (np.maximum(cnt - level.discount(cnt), 0) + mass * p) / safe
            p = np.where(use, mixed, p)
        return p

    def _history(self, ids: np.ndarray) -> np.ndarray:
        k = self.order - 1
        padded = np.r_[np.full(k, -1, dtype=np.int64), ids.astype(np.int64)]
        if k == 0:
            return np.zeros((len(ids), 0), dtype=np.int64)
        return np.lib.stride_tricks.sliding_window_view(padded, k)[: len(ids)]

    def log2_probs(self, text: str, chunk: int = 1 << 18) -> npt.NDArray[np.float64]:
        """text: str of length T -> (T,) float64 log2 P(char_t | previous chars)."""
        ids = self.vocab.encode(text).astype(np.int64)
        hist = self._history(ids)
        out = np.empty(len(ids))
        for s in range(0, len(ids), chunk):
            out[s : s + chunk] = np.log2(self._probs(hist[s : s + chunk], ids[s : s + chunk]))
        return out

    def bits_per_char(self, text: str) -> float:
        """Mean -log2 P over every character of `text` (the first ones see a shorter context)."""
        if not text:
            raise ValueError("cannot score an empty text")
        return float(-self.log2_probs(text).mean())

    def next_char_probs(self, context: str) -> npt.NDArray[np.float64]:
        """context: str -> (V,) float64, P(next id | last order-1 characters of context); sums to 1."""
        ids = self.vocab.encode(context).astype(np.int64)
        k = self.order - 1
        hist = np.full(k, -1, dtype=np.int64)
        if k:
            tail = ids[-k:]
            hist[k - len(tail) :] = tail
        v = self.vocab.size
        return self._probs(np.tile(hist, (v, 1)), np.arange(v, dtype=np.int64))
