"""CNN vs LSTM on real code, as the Compare lab shows it: the shipped result of
``python -m explorer.training.compare_text --out resources/compare/text.json`` (the same
figures as ``cnn-rnn-explorer compare --task text --json``) turned into one view.

Qt-free: ``load_text_view()`` -> ``TextCompareView`` or None (file missing or not ours).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "cnn-rnn-explorer/compare-text"


@dataclass(frozen=True)
class ModelRow:
    """One network of the comparison and the effort that went into it."""

    name: str
    kind: str                      # "cnn" | "rnn" | "transformer"
    field: int | None              # a CNN's receptive field in characters (None: not a CNN)
    params: int
    bpc: float                     # bits per character on the held-out code
    closer_accuracy: float         # at every closer
    beyond: tuple[int, float, float] | None  # (n, this CNN, the LSTM) on closers beyond the field
    steps: int | None
    chars_seen: int | None
    train_seconds: float | None
    train_cpu_seconds: float | None
    chars_per_cpu_second: int | None
    macs_per_char: int
    curve: list[tuple[int, float]] = dataclasses.field(default_factory=list)   # (characters seen, validation bpc)
    schedule: str = ""
    early_stopping: str = ""
    read_cpu_seconds: float | None = None   # to read the whole held-out text once (a measurement)
    context: int | None = None     # a transformer's window in characters: it sees nothing before it
    grown_from: str | None = None  # the narrower network this one started as (its curve is the start of this one's)
    grown_at_chars: int | None = None   # characters that network had seen when this one grew from it

    def own_curve(self) -> list[tuple[int, float]]:
        """The curve from where this network grew on (with that point, so the parts join); the
        part before is its parent's, drawn by the parent."""
        if self.grown_at_chars is None:
            return list(self.curve)
        return [p for p in self.curve if p[0] >= self.grown_at_chars]

    def sees(self) -> str:
        """How far back this network can see, as the table says it."""
        if self.field:
            return str(self.field)
        if self.context:
            return f"{self.context} (window)"
        return "∞ (state)"


@dataclass(frozen=True)
class TextCompareView:
    models: list[ModelRow]
    bins: list[str]                          # "1-4", ..., ">256"
    accuracy: dict[str, list[float | None]]  # model -> closer accuracy per bin
    n_per_bin: list[int]
    n_chars: int
    n_closers: int
    source: str

    def verdicts(self) -> list[str]:
        """What the figures say, in sentences (true whichever way they come out)."""
        out = []
        cnns = sorted((m for m in self.models if m.kind == "cnn"), key=lambda m: m.field or 0)
        rises = [(a, b) for a, b in zip(cnns, cnns[1:]) if b.bpc > a.bpc + 0.03]
        if cnns and not rises:
            out.append("A wider field never reads worse: " + " → ".join(
                f"{m.bpc:.2f}" for m in cnns) + " bits per character for fields "
                + ", ".join(str(m.field) for m in cnns) + ".")
        for a, b in rises:
            out.append(f"{b.name} reads worse than {a.name} ({b.bpc:.2f} vs {a.bpc:.2f} bits per character).")
        lose = [m for m in cnns if m.beyond and m.beyond[0] and m.beyond[1] >= m.beyond[2]]
        win = [m for m in cnns if m.beyond and m.beyond[0] and m.beyond[1] < m.beyond[2]]
        if win:
            out.append("Beyond its field the LSTM predicts more closers than "
                       + ", ".join(m.name for m in win) + ".")
        if lose:
            out.append("Beyond its field " + ", ".join(m.name for m in lose)
                       + " predicts as many closers as the LSTM or more: it guesses them from what it sees.")
        return out


def _row(name: str, info: dict[str, Any]) -> ModelRow:
    t = info.get("training") or {}
    b = info.get("beyond_field")
    beyond = (int(b["n"]), float(b["accuracy"] or 0.0), float(b["rnn_accuracy"] or 0.0)) \
        if b and b.get("n") and b.get("accuracy") is not None else None
    curve = [(int(c[1]), float(c[2])) for c in t.get("valid_curve") or []]
    return ModelRow(name, str(info["kind"]), info.get("receptive_field"), int(info["params"]),
                    float(info["bpc"]), float(info.get("closer_accuracy") or 0.0), beyond,
                    t.get("steps"), t.get("chars_seen"), t.get("train_seconds"), t.get("train_cpu_seconds"),
                    t.get("chars_per_cpu_second"), int(t.get("macs_per_char") or 0), curve,
                    str(t.get("schedule") or ""), str(t.get("early_stopping") or ""),
                    info.get("read_cpu_seconds"),
                    int(info["context"]) if info.get("context") else None,
                    *_grown(t.get("grown_from")))


def _grown(g: Any) -> tuple[str | None, int | None]:
    if not isinstance(g, dict) or not g.get("chars_seen"):
        return None, None
    return str(g.get("name") or g.get("file") or ""), int(g["chars_seen"])


def view_from_result(res: dict[str, Any]) -> TextCompareView:
    """The view of one ``text_compare`` result dict."""
    models = [_row(n, i) for n, i in res["models"].items()]
    bins = []
    for r in res["rows"]:
        hi = r["distance_max"]
        bins.append(f"{r['distance_min']}–{hi}" if hi else f">{r['distance_min'] - 1}")
    acc = {m.name: [r.get(m.name) for r in res["rows"]] for m in models}
    h = res["held_out"]
    return TextCompareView(models, bins, acc, [int(r["n"]) for r in res["rows"]], int(h["n_chars"]),
                           int(h["n_closers"]), str(h["source"]))


def load_text_view(path: str | Path | None = None) -> TextCompareView | None:
    """The shipped result (``resources/compare/text.json``) as a view; None if absent or not ours."""
    if path is None:
        from explorer.paths import resources_dir
        path = resources_dir() / "compare" / "text.json"
    try:
        res = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(res, dict) or res.get("format") != FORMAT:
            return None
        return view_from_result(res)
    except (OSError, ValueError, KeyError, TypeError):
        return None
