"""The Compare lab's pre-computed answer: ``resources/compare/duel_<task>.json``.

Written by ``cnn-rnn-explorer compare-snapshot`` (the same seeded training the lab runs),
read here so the lab shows accuracy against distance and the influence plot the moment it
opens; "Train again live" then trains a fresh pair in front of you.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

FORMAT = "cnn-rnn-explorer/compare-duel"


def running_mean(values: list[float], keep: float = 0.9) -> np.ndarray:
    """The loss plot's smoothing: m_0 = v_0, m_t = keep·m_(t-1) + (1-keep)·v_t."""
    out = np.empty(len(values), np.float64)
    m = 0.0
    for i, v in enumerate(values):
        m = v if i == 0 else keep * m + (1 - keep) * v
        out[i] = m
    return out


def load_snapshot(task: str, distance: int, steps: int, names: list[str], sample: str) -> dict[str, Any] | None:
    """The shipped result for exactly this setting (task, distance, steps, sample), or None."""
    from explorer.paths import resources_dir
    path = resources_dir() / "compare" / f"duel_{task}.json"
    try:
        snap = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(snap, dict) or snap.get("format") != FORMAT or snap.get("version") != 1:
        return None
    same = (snap.get("task"), snap.get("steps"), snap.get("names"), snap.get("sample")) == (task, steps, names, sample)
    if not same or (task == "recall" and snap.get("distance") != distance):
        return None
    try:
        for key in ("loss", "acc", "influence"):
            if set(snap[key]) != set(names):
                return None
        if any(len(snap["influence"][n]) != len(sample) or len(snap["acc"][n]) != len(snap["grid"]) for n in names):
            return None
    except (KeyError, TypeError):
        return None
    return snap
