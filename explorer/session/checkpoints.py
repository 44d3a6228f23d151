"""The sequence session's checkpoints: the recurrent state after every BLOCK-th character.

Kept in fixed chunks of ``CHUNK`` checkpoints, so a growing text never copies what is kept.
(One array doubled as the text grew: at ~1M characters of a 2 MB paste the doubling allocated
33 MB and copied 17 MB inside one event, blocking the window for 70 ms, and held both copies.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CHUNK = 1024     # checkpoints per chunk (with 64-character blocks: 65,536 characters)


class Checkpoints:
    """ck[b] -> (S, H) state after block b; ``put`` writes many at once and grows by chunks."""

    def __init__(self, shape: tuple[int, ...], dtype: npt.DTypeLike) -> None:
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.chunks: list[np.ndarray] = []

    def __len__(self) -> int:
        """How many checkpoints there is room for (entries past the text are zeros)."""
        return len(self.chunks) * CHUNK

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.chunks)

    def __getitem__(self, b: int) -> np.ndarray:
        state: np.ndarray = self.chunks[b // CHUNK][b % CHUNK]
        return state

    def put(self, blocks: npt.ArrayLike, states: np.ndarray) -> None:
        """states[k] becomes checkpoint blocks[k] (blocks ascending, states (n, S, H))."""
        bs = np.atleast_1d(np.asarray(blocks, np.intp))
        if not len(bs):
            return
        while len(self.chunks) <= int(bs[-1]) // CHUNK:
            self.chunks.append(np.zeros((CHUNK,) + self.shape, self.dtype))
        which = bs // CHUNK
        for k in range(int(which[0]), int(which[-1]) + 1):
            lo, hi = np.searchsorted(which, [k, k + 1])
            if hi > lo:
                self.chunks[k][bs[lo:hi] % CHUNK] = states[lo:hi]

    def keep(self, n: int) -> None:
        """Drop the chunks wholly past checkpoint n (after a big deletion)."""
        del self.chunks[-(-n // CHUNK):]
