"""Character vocabularies: text -> int32 ids and back, stored in a model file's `meta`.

The text vocabulary is printable ASCII (letters, digits, punctuation, space, newline,
tab) plus one UNKNOWN symbol at index 0 that every other character (accents, emoji,
control codes, carriage return) maps to. Toy languages use the same class with an
explicit alphabet and usually no unknown symbol.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import numpy.typing as npt

from explorer.errors import ExplorerError

UNKNOWN = "\ufffd"  # shown for the unknown symbol ("?" where the font lacks it)
TEXT_CHARS = "".join(sorted(set(string.printable) - set("\x0b\x0c\r")))
META_KIND = "chars"

# How control characters are labelled in panels (top-k lists, axis ticks).
_LABELS = {" ": "\u2423", "\n": "\u23ce", "\t": "\u21e5"}


class VocabError(ExplorerError, ValueError):
    """A vocabulary description or an input text that does not fit the vocabulary."""


class Vocab:
    """Characters <-> int32 ids; index 0 is the unknown symbol when `unknown` is True.

    Vocab(chars, unknown=True): ids 1..len(chars) are `chars` in the given order.
    Vocab(chars, unknown=False): ids 0..len(chars)-1; encoding a foreign character raises.
    """

    def __init__(self, chars: str = TEXT_CHARS, unknown: bool = True) -> None:
        if not isinstance(chars, str) or not chars:
            raise VocabError("a vocabulary needs at least one character")
        if len(set(chars)) != len(chars):
            raise VocabError(f"vocabulary characters repeat: {chars!r}")
        if UNKNOWN in chars:
            raise VocabError("the unknown symbol U+FFFD cannot be an ordinary character")
        self.chars = chars
        self.unknown = bool(unknown)
        self.symbols: tuple[str, ...] = ((UNKNOWN,) if unknown else ()) + tuple(chars)
        offset = 1 if unknown else 0
        top = max(128, max(ord(c) for c in chars) + 1)
        # -1 marks "not in the vocabulary"; turned into UNK (or an error) by encode().
        self._table = np.full(top, -1, dtype=np.int32)
        for i, c in enumerate(chars):
            self._table[ord(c)] = i + offset
        self._symbols_arr = np.array(self.symbols, dtype=object)  # "<U1" would drop NULs

    @classmethod
    def text(cls) -> Vocab:
        """The default text vocabulary: 97 printable ASCII characters + UNKNOWN (98 ids)."""
        return cls(TEXT_CHARS, unknown=True)

    @property
    def size(self) -> int:
        """Number of ids (including the unknown symbol)."""
        return len(self.symbols)

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and (self.chars, self.unknown) == (other.chars, other.unknown)

    def __hash__(self) -> int:
        return hash((self.chars, self.unknown))

    def __repr__(self) -> str:
        return f"Vocab({self.chars!r}, unknown={self.unknown})"

    def encode(self, text: str) -> npt.NDArray[np.int32]:
        """text: str of length T -> ids: (T,) int32 (vectorised through a lookup table)."""
        if not text:
            return np.zeros(0, dtype=np.int32)
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        inside = cps < len(self._table)
        ids = np.where(inside, self._table[np.where(inside, cps, 0)], -1).astype(np.int32)
        bad = ids < 0
        if bad.any():
            if not self.unknown:
                pos = int(np.argmax(bad))
                raise VocabError(
                    f"character {text[pos]!r} at position {pos} is not in the alphabet {self.chars!r}"
                )
            ids[bad] = 0
        return ids

    def decode(self, ids: npt.ArrayLike) -> str:
        """ids: (T,) int -> str of length T; the unknown id decodes to U+FFFD."""
        arr = np.asarray(ids)
        if arr.size == 0:
            return ""
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise VocabError(f"decode expects a 1-D integer array, got {arr.dtype} {arr.shape}")
        if arr.min() < 0 or arr.max() >= self.size:
            raise VocabError(f"ids must lie in [0, {self.size}), got [{arr.min()}, {arr.max()}]")
        return "".join(self._symbols_arr[arr].tolist())

    def label(self, i: int) -> str:
        """A visible label for id `i`: space -> '␣', newline -> '⏎', tab -> '⇥', unknown -> '�'."""
        c = self.symbols[int(i)]
        return _LABELS.get(c, c)

    def labels(self) -> list[str]:
        """Visible labels for every id, in id order."""
        return [self.label(i) for i in range(self.size)]

    def to_meta(self) -> dict[str, Any]:
        """A JSON-serialisable description: {"kind": "chars", "chars": str, "unknown": bool}."""
        return {"kind": META_KIND, "chars": self.chars, "unknown": self.unknown}

    @classmethod
    def from_meta(cls, d: Any) -> Vocab:
        """Rebuild from `to_meta()` output; raises VocabError on anything malformed."""
        if not isinstance(d, dict):
            raise VocabError(f"vocabulary description must be a mapping, got {type(d).__name__}")
        if d.get("kind", META_KIND) != META_KIND:
            raise VocabError(f"unsupported vocabulary kind {d.get('kind')!r} (expected 'chars')")
        chars, unknown = d.get("chars"), d.get("unknown", True)
        if not isinstance(chars, str) or not chars:
            raise VocabError("vocabulary description lacks a non-empty 'chars' string")
        if not isinstance(unknown, bool):
            raise VocabError("vocabulary field 'unknown' must be true or false")
        return cls(chars, unknown=unknown)
