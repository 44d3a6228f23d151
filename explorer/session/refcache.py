"""A disk cache of a text model's reference states (so the Sequence Lab starts fast).

The Sequence Lab fits its trajectory basis and its heat map's row order on the model's states
over its own corpus. Reading that corpus and running the model over it was ~120 ms of every
start; the result depends only on the weights, the model's meta (vocabulary, corpus), the
Python version (the corpus is the standard library's own source) and the sampling settings,
so it is kept in the user's cache folder under a hash of all of those and read back in ~2 ms.

The cache is data only (``np.load`` with ``allow_pickle=False``), written atomically, checked
on the way in (shape, dtype, finite values), and pruned to the newest ``KEEP`` files. Anything
wrong with it (unreadable, damaged, wrong shape, folder not writable) just means computing
the states again; it never raises. ``EXPLORER_CACHE_DIR`` overrides the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from explorer.atomic import atomic_write
from explorer.engine.model import Model

FORMAT = 1          # bump when reference_states() changes what it computes
KEEP = 16           # files kept (one per model and Python version, ~3 MB each)


def cache_dir() -> Path:
    if os.environ.get("EXPLORER_CACHE_DIR"):
        return Path(os.environ["EXPLORER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cnn-rnn-explorer" / "reference-states"


def cache_key(model: Model, **settings: object) -> str:
    """A hash of every input of the reference states: weights, meta, Python, settings."""
    h = hashlib.sha256()
    head = {"format": FORMAT, "python": list(sys.version_info[:2]), "settings": settings,
            "meta": model.meta}
    h.update(json.dumps(head, sort_keys=True, default=str).encode())
    for name, value in sorted(model.parameters().items()):
        arr = np.ascontiguousarray(value)
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(arr.data)
    return h.hexdigest()[:40]


def load(key: str, hidden: int) -> np.ndarray | None:
    """The cached (N, hidden) float32 states, or None (absent or not usable)."""
    path = cache_dir() / f"{key}.npy"
    try:
        if path.stat().st_size > 256 << 20:
            return None
        arr: np.ndarray = np.asarray(np.load(path, allow_pickle=False))
    except (OSError, ValueError, EOFError):
        return None
    if (arr.dtype != np.float32 or arr.ndim != 2 or arr.shape[1] != hidden or not len(arr)
            or not np.isfinite(arr).all()):
        return None
    return arr


def store(key: str, states: np.ndarray) -> bool:
    """Write the states atomically and keep the newest KEEP files; False if it could not."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{key}.npy", lambda fh: np.save(fh, np.asarray(states, np.float32)))
        files = sorted(folder.glob("*.npy"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return False
    return True
