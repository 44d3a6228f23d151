"""Signals over a text and units that follow them: "find a unit for ..." in the Sequence Lab.

Every signal is aligned with the hidden state *after reading* character t, so signal[t]
describes the text up to and including t: ``inside_string`` is 1 from an opening quote up
to, but not including, its closing quote (after reading the closing quote you are outside).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from explorer.engine import Model, RecurrentLayer
from explorer.errors import ExplorerError

F32 = npt.NDArray[np.float32]
_OPEN, _CLOSE = "([{", ")]}"


class SignalError(ExplorerError, ValueError):
    """A signal that cannot be computed or correlated; the message is one sentence."""


@dataclass(frozen=True)
class UnitScore:
    """One unit's Pearson correlation r with a signal; ``state`` names which state it reads.

    "h" is the hidden state h(t); "c" the LSTM cell state, read as tanh(c(t)) — what the
    cell passes to the output gate, and what LSTMVis and Karpathy's char-rnn pages show.
    """

    unit: int
    r: float
    state: str = "h"

    @property
    def name(self) -> str:
        return f"{self.state} {self.unit}"


def python_lexical(text: str) -> dict[str, F32]:
    """text (T chars) -> {"string", "comment", "depth", "literal", "docstring"} each (T,) float32.

    A tiny Python lexer. "literal" is a string in single or double quotes, "docstring" one in
    triple quotes (a char-RNN treats the two very differently: one is code, one is prose).

    Handles ' and " strings, triple quotes, backslash escapes and # comments; brackets
    inside strings and comments do not count towards the depth (which never goes below 0).
    """
    n = len(text)
    string, comment, depth = np.zeros(n, np.float32), np.zeros(n, np.float32), np.zeros(n, np.float32)
    quote, in_comment, escaped, d, i = "", False, False, 0, 0
    while i < n:
        ch = text[i]
        if in_comment:
            if ch == "\n":
                in_comment = False
            else:
                comment[i] = 1.0
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "\n" and len(quote) == 1:
                quote = ""                                  # unterminated one-line string ends
            elif text.startswith(quote, i):
                string[i:i + len(quote) - 1] = 1.0          # a closing triple quote's first two
                depth[i:i + len(quote)] = d
                i += len(quote)
                quote = ""
                continue
            if quote:
                string[i] = 1.0
        elif ch in "'\"":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            string[i:i + len(quote)] = 1.0
            depth[i:i + len(quote)] = d
            i += len(quote)
            continue
        elif ch == "#":
            in_comment, comment[i] = True, 1.0
        elif ch in _OPEN:
            d += 1
        elif ch in _CLOSE:
            d = max(d - 1, 0)
        depth[i] = d
        i += 1
    triple = _triple_quoted(text, string)
    return {"string": string, "comment": comment, "depth": depth,
            "literal": string * (1.0 - triple), "docstring": triple}


def _triple_quoted(text: str, string: F32) -> F32:
    """The string runs (of ``string``) that open with a triple quote: docstrings and the like."""
    out = np.zeros_like(string)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (string > 0).astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):
        if text.startswith(('"""', "'''"), int(a)):
            out[a:b] = 1.0
    return out


def position_in_line(text: str) -> F32:
    """text -> (T,) float32: characters since the last newline (0 on the newline itself)."""
    if not text:
        return np.zeros(0, np.float32)
    arr = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    idx = np.arange(len(arr))
    last_nl = np.maximum.accumulate(np.where(arr == 10, idx, -1))
    return cast("F32", (idx - last_nl).astype(np.float32) * (arr != 10))


def after_space(text: str) -> F32:
    """text -> (T,) float32: 1 where the character just read is a space or a tab."""
    arr = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    return cast("F32", ((arr == 32) | (arr == 9)).astype(np.float32))


def regex_signal(text: str, pattern: str) -> F32:
    """text, pattern -> (T,) float32: 1 on every character inside a match of the regex."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise SignalError(f"the pattern {pattern!r} is not a valid regular expression: {exc}") from exc
    out = np.zeros(len(text), np.float32)
    for m in rx.finditer(text):
        out[m.start():m.end()] = 1.0
    return out


#: name shown in the lab -> signal function text -> (T,) float32
BUILTIN_SIGNALS: dict[str, Callable[[str], F32]] = {
    "inside a string": lambda t: python_lexical(t)["string"],
    "inside a quoted literal": lambda t: python_lexical(t)["literal"],
    "inside a docstring": lambda t: python_lexical(t)["docstring"],
    "bracket depth": lambda t: python_lexical(t)["depth"],
    "position in line": position_in_line,
    "inside a comment": lambda t: python_lexical(t)["comment"],
    "after a space": after_space,
}


def signal(text: str, name_or_regex: str) -> F32:
    """A built-in signal by name (see BUILTIN_SIGNALS) or, otherwise, a regex signal."""
    fn = BUILTIN_SIGNALS.get(name_or_regex)
    return fn(text) if fn is not None else regex_signal(text, name_or_regex)


def correlations(h: npt.ArrayLike, s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """h: (T, H), s: (T,) -> r: (H,) Pearson correlation of each unit with s (0 for a flat unit)."""
    h = np.asarray(h, np.float64)
    s = np.asarray(s, np.float64)
    if h.ndim != 2 or s.shape != (h.shape[0],):
        raise SignalError(f"need states (T, H) and a signal (T,), got {h.shape} and {s.shape}")
    if h.shape[0] < 3:
        raise SignalError("type a few more characters: a correlation needs at least 3 steps")
    sc = s - s.mean()
    if not np.any(sc):
        raise SignalError("the signal is constant on this text (e.g. no string at all), "
                          "so no unit can follow it")
    hc = h - h.mean(axis=0)
    den = np.sqrt((hc * hc).sum(axis=0) * (sc @ sc))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, (hc.T @ sc) / np.where(den > 0, den, 1.0), 0.0)
    return r


def rank_units(h: npt.ArrayLike, s: npt.ArrayLike, top: int | None = None) -> list[UnitScore]:
    """h: (T, H), s: (T,) -> units sorted by |r|, strongest first (at most `top`)."""
    r = correlations(h, s)
    order = np.argsort(-np.abs(r), kind="stable")
    if top is not None:
        order = order[:top]
    return [UnitScore(int(u), float(r[u])) for u in order]


def rank_states(states: Mapping[str, npt.ArrayLike], s: npt.ArrayLike,
                top: int | None = None) -> list[UnitScore]:
    """{"h": (T, H), "c": (T, H), ...}, s: (T,) -> units of every state by |r|, strongest first."""
    scores = [UnitScore(u.unit, u.r, kind) for kind, h in states.items() for u in rank_units(h, s)]
    scores.sort(key=lambda u: -abs(u.r))
    return scores if top is None else scores[:top]


# ----------------------------------------------------------------------------- over many files
#: the lexer's signals that the model card and the tests report, by the names they use
CODE_SIGNALS = {"in_string": "string", "in_line_string": "literal", "bracket_depth": "depth"}


def code_signals(source: str) -> dict[str, F32]:
    """Per-character signals of Python source from the one lexer (``python_lexical``):
    {"in_string", "in_line_string" (a quoted literal, no docstrings), "bracket_depth",
    "in_brackets"}, each (T,) float32."""
    lex = python_lexical(source)
    out = {name: lex[key] for name, key in CODE_SIGNALS.items()}
    out["in_brackets"] = (out["bracket_depth"] > 0).astype(np.float32)
    return out


def model_states(model: Model, ids: npt.ArrayLike, chunk: int = 4096) -> dict[str, F32]:
    """ids (T,) -> {"h": (T, H)} and, for an LSTM, {"c": tanh(c) (T, H)}: what the finder reads."""
    ids = np.asarray(ids, np.int64)
    emb, rec = model.layers[0], cast(RecurrentLayer, model.layers[1])
    out: dict[str, list[F32]] = {"h": [], "c": []}
    state = None
    for s in range(0, len(ids), chunk):
        hs, state, gates = rec.run(emb.infer(ids[None, s:s + chunk]), state)
        out["h"].append(hs[0])
        if "c" in gates:
            out["c"].append(np.tanh(gates["c"][0]))
    return {k: np.concatenate(v) for k, v in out.items() if v}


def code_states_and_signals(model: Model, sources: list[str],
                            encode: Callable[[str], npt.ArrayLike]
                            ) -> tuple[dict[str, F32], dict[str, F32]]:
    """Python files read one after another with the state carried (as in validation)
    -> (states as ``model_states``, signals as ``code_signals``, concatenated)."""
    if not sources:
        raise SignalError("no source files were given")
    text = "".join(sources)
    return model_states(model, encode(text)), code_signals(text)


def best_units(states: dict[str, F32], signals: dict[str, F32]) -> list[dict[str, object]]:
    """For each signal and state kind, the unit with the largest |r| (by ``rank_states``),
    strongest first -> [{"signal", "state", "unit", "r"}]."""
    found: list[dict[str, Any]] = []
    for name, sig in signals.items():
        for kind, st in states.items():
            top = rank_states({kind: st}, sig, top=1)[0]
            found.append({"signal": name, "state": top.state, "unit": top.unit, "r": top.r})
    return sorted(found, key=lambda d: -abs(float(d["r"])))
