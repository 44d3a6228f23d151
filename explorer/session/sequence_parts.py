"""What both sequence sessions share: their error, the influence bars (Memory), a transformer's
attention view and the first step of every family's reference states (Qt-free).

``sequence`` (the recurrent session) and ``sequence_transformer`` (its transformer subclass)
both stand on this module; it imports neither.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from explorer.engine.model import Model
from explorer.errors import ExplorerError

F32 = npt.NDArray[np.float32]


class SequenceModelError(ExplorerError, ValueError):
    """A model the Sequence Lab cannot show; the message is one sentence for a person."""


@dataclass(frozen=True)
class Memory:
    """Influence of the inputs start..start+n-1 on the prediction `target` read at step start+n-1."""

    start: int
    weights: npt.NDArray[np.float64]
    target: int
    label: str
    actual: bool  # True: the real next character / true class; False: the model's own best guess


class PendingMemory:
    """A ``Memory`` that may still be computed elsewhere (the memory worker): ``collect()``
    gives it, waiting for its weights only then, so a frame can build and route its other
    panels meanwhile. The same numbers whoever computed them."""

    def __init__(self, memory: Memory | None = None, start: int = 0,
                 weights: Callable[[], npt.NDArray[np.float64]] | None = None,
                 finish: Callable[[npt.NDArray[np.float64]], Memory] | None = None, elsewhere: bool = False) -> None:
        self.start = memory.start if memory is not None else start      # known before the weights
        self._memory, self._weights, self._finish = memory, weights, finish
        self._elsewhere = elsewhere

    @property
    def elsewhere(self) -> bool:
        """Still being computed by the memory worker (collecting it now could wait for it)."""
        return self._elsewhere and self._weights is not None

    @property
    def empty(self) -> bool:
        """No memory to show (the cursor at 0, after an unknown character): known at once."""
        return self._memory is None and self._weights is None

    def collect(self) -> Memory | None:
        if self._weights is not None and self._finish is not None:
            weights, finish = self._weights, self._finish
            self._weights = self._finish = None    # settled whatever happens: a failure is raised once
            self._memory = finish(weights())
        return self._memory

    def settle(self) -> None:
        """Finish the job before the session changes what it reads. Its frame was never shown,
        so a failure of it has no panel to be said in: it is settled as no memory."""
        with contextlib.suppress(Exception):
            self.collect()



def cached_or_reference_text(model: Model, corpus: str, max_chars: int, seed: int, hidden: int,
                             use_cache: bool, **key_extra: str) -> tuple[F32 | None, str, str | None]:
    """The first step of every model family's reference states: (the cached states, or None;
    the text to read — the corpus's validation split, or a built-in text when there is none;
    the cache key to store the states under, None when they must not be cached)."""
    from explorer.session import refcache
    key = (refcache.cache_key(model, corpus=corpus, max_chars=max_chars, seed=seed, **key_extra)
           if use_cache else None)
    cached = refcache.load(key, hidden) if key else None
    if cached is not None:
        return cached, "", key
    try:
        from explorer.data.corpora import load_corpus
        text = load_corpus(corpus, split="valid", max_chars=max_chars + max_chars // 4).text
    except Exception:                      # noqa: BLE001 - no corpus: fall back to a built-in text
        text, key = _FALLBACK_TEXT * 20, None                      # (and do not cache that)
    return None, text, key



_FALLBACK_TEXT = ('def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)  # float\n'
                  "The quick brown fox jumps over the lazy dog. (Brackets [and {nested}] ones.)\n")


@dataclass(frozen=True)
class AttentionView:
    """What a transformer's attention panel draws for one frame (L layers, H heads).

    The prediction at the cursor c is read at position q = c - 1: its query looks at the keys
    of positions ``key_start``..q (at most the model's context). ``rows`` (L, H, k): those
    weights (each row sums to 1 over its keys); ``entropy`` (L, H) in bits: how spread out
    each head looks at q (0: one character; log2 k: evenly over all). ``pattern`` (H, n, n):
    layer ``layer``'s weights for queries and keys ``start``..``start``+n-1, query rows x key
    columns, 0 above the diagonal (the future) and for keys before ``start``; ``start`` moves
    in hops, so typing does not move the axes on every key.
    """

    layers: int
    heads: int
    context: int
    query: int                          # q = cursor - 1 (-1: nothing read yet)
    key_start: int
    rows: F32
    chars: str                          # the characters key_start..q
    entropy: F32
    layer: int
    start: int
    pattern: F32
    pattern_chars: str
    head: tuple[int, int] | None        # (layer, head) colouring the text, or None
    span: int = 48                      # the pattern's axes show start..start+span (it moves in hops)
