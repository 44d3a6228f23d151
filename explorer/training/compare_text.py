"""CNN vs RNN on real text: the shipped causal char-CNNs against the code LSTM on held-out code.

Held-out code: the standard library's *validation* files (``load_corpus("code", "valid")``),
which neither the LSTM nor the CNNs trained on. For each model: bits per character over
the whole text, and how often its most likely next character is right at a **closer** —
``)``, ``]``, ``}`` (matched to its opener by Python's tokenizer) or the closing quote of a
one-line string literal — as a function of how far back the opener is (distance =
closer position - opener position). A causal CNN with receptive field R predicts the
character at p from characters p-R .. p-1 only, so it can see an opener at distance <= R.
The LSTM reads the validation text from the start with its state carried throughout.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import time
import tokenize
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from explorer.data.corpora import load_code, stdlib_root
from explorer.data.vocab import Vocab
from explorer.engine import Model, RecurrentLayer, load_model, log_softmax
from explorer.paths import model_path
from explorer.training import text_transformer
from explorer.training.text_cnn import receptive_field, stream_logprobs
from explorer.training.text_models import LOG2E

#: distance bins (inclusive): the table's rows
BINS: tuple[tuple[int, int], ...] = ((1, 4), (5, 8), (9, 16), (17, 32), (33, 64), (65, 128),
                                     (129, 256), (257, 100_000_000))
CNN_FILES = tuple(f"code_cnn{r}.npz" for r in (8, 16, 32, 64))
RNN_FILE = "code_lstm.npz"
TRANSFORMER_FILE = "code_transformer.npz"
_PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class Closer:
    pos: int        # position of the closing character in the text
    distance: int   # pos - position of its opener
    kind: str       # "bracket" | "quote"


def closers(source: str, offset: int = 0) -> list[Closer]:
    """Matched closing brackets and closing quotes of one-line string literals in Python source.

    Sources that do not tokenize give []. Triple-quoted strings are left out (their closer
    is three characters); a prefix (r, b, f, ...) is skipped to find the opening quote.
    """
    starts = np.cumsum([0] + [len(line) for line in source.splitlines(keepends=True)])
    found: list[Closer] = []
    stack: list[tuple[str, int]] = []
    fstart, fend = getattr(tokenize, "FSTRING_START", -1), getattr(tokenize, "FSTRING_END", -2)
    fstack: list[int] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            a = int(starts[tok.start[0] - 1] + tok.start[1])
            b = int(starts[tok.end[0] - 1] + tok.end[1]) if tok.end[0] - 1 < len(starts) else len(source)
            s = tok.string
            if tok.type == tokenize.OP and s in "([{":
                stack.append((s, a))
            elif tok.type == tokenize.OP and s in ")]}":
                if stack and stack[-1][0] == _PAIRS[s]:
                    found.append(Closer(offset + a, a - stack.pop()[1], "bracket"))
            elif tok.type == tokenize.STRING and tok.start[0] == tok.end[0]:
                q = len(s) - len(s.lstrip("rRbBuUfF"))
                if s[q:q + 3] not in ('"""', "'''") and len(s) - q >= 2:
                    found.append(Closer(offset + b - 1, b - 1 - (a + q), "quote"))
            elif tok.type == fstart and s[-3:] not in ('"""', "'''"):
                fstack.append(a + len(s) - 1)
            elif tok.type == fend and fstack and tok.start[0] == tok.end[0] and len(s) == 1:
                found.append(Closer(offset + a, a - fstack.pop(), "quote"))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    return found


def held_out_code(max_chars: int | None = None) -> tuple[str, list[Closer], list[str]]:
    """The code corpus' validation text, its closers and its file names."""
    corpus = load_code("valid", max_chars)
    root, events, pos = stdlib_root(), [], 0
    for name in corpus.files:
        with open(os.path.join(root, name), encoding="utf-8", errors="replace") as fh:
            src = fh.read()
        if not src.endswith("\n"):
            src += "\n"
        if corpus.text[pos:pos + len(src)] != src:        # the corpus is these files in order
            break
        events += closers(src, pos)
        pos += len(src)
    return corpus.text, events, corpus.files


def rnn_logprobs_argmax_bits(model: Model, ids: np.ndarray, chunk: int = 4096
                             ) -> tuple[np.ndarray, np.ndarray]:
    """ids (n,) -> (argmax (n-1,), bits (n-1,)) for characters 1..n-1, state carried."""
    emb, rec, lin = model.layers
    state, arg, bits = None, [], []
    for s in range(0, len(ids) - 1, chunk):
        x, y = ids[s:min(s + chunk, len(ids) - 1)], ids[s + 1:min(s + chunk, len(ids) - 1) + 1]
        hs, state, _ = cast(RecurrentLayer, rec).run(emb.infer(x[None]), state)
        lp = log_softmax(lin.infer(hs[0]).astype(np.float64))
        arg.append(lp.argmax(-1))
        bits.append(-lp[np.arange(len(y)), y] * LOG2E)
    return np.concatenate(arg), np.concatenate(bits)


def cnn_argmax_bits(model: Model, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    arg, bits = [], []
    for s in range(0, len(ids) - 1, 8192):
        part = ids[s:min(s + 8192, len(ids) - 1) + 1]
        ctx = ids[max(0, s - receptive_field(model) + 1):s]
        lp = stream_logprobs(model, np.r_[ctx, part])[len(ctx):]
        arg.append(lp.argmax(-1))
        bits.append(-lp[np.arange(len(lp)), part[1:]] * LOG2E)
    return np.concatenate(arg), np.concatenate(bits)


def macs_per_char(model: Model) -> int:
    """Multiply-adds to predict one more character of a stream: every weight matrix once
    (an embedding is a lookup; a CNN reads each position once as the window slides)."""
    total = 0
    for layer in model.layers:
        if layer.type_name == "Embedding":
            continue
        total += sum(int(p.size) for n, p in layer.params.items() if n.startswith("weight"))
    return total


def training_effort(model: Model) -> dict[str, Any]:
    """What went into a model, from its meta: steps, characters seen, clock, validation curve."""
    m = model.meta
    seen = m.get("chars_seen")
    if seen is None and m.get("steps") and m.get("batch_size"):
        seen = int(m["steps"]) * int(m["batch_size"]) * int(m.get("seq_len") or m.get("window") or 0)
    cpu = m.get("train_cpu_seconds")
    grown = m.get("grown_from")
    if isinstance(grown, dict) and m.get("batch_size") and m.get("window"):
        # grown from a narrower network: its steps are the first part of this one's
        grown = {"file": grown.get("file"), "steps": grown.get("steps"),
                 "chars_seen": int(grown.get("steps") or 0) * int(m["batch_size"]) * int(m["window"])}
    else:
        grown = None
    return {"grown_from": grown,"steps": m.get("steps"), "chars_seen": seen, "train_seconds": m.get("train_seconds"),
            "train_cpu_seconds": cpu, "lr": m.get("lr"), "schedule": m.get("schedule"),
            "early_stopping": m.get("early_stopping"), "best_step": m.get("best_step"),
            "valid_curve": m.get("valid_curve") or [], "final_train_bpc": m.get("final_train_bpc"),
            "chars_per_cpu_second": round(seen / cpu) if seen and cpu else None,
            "macs_per_char": macs_per_char(model)}


def text_compare(max_chars: int | None = None, models: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """-> {"task": "text", "rows": [...], "models": {...}, ...} (see ``run`` in compare)."""
    t0 = time.perf_counter()
    text, events, files = held_out_code(max_chars)
    vocab = Vocab.text()
    ids = vocab.encode(text).astype(np.int64)
    paths = models or {"LSTM": str(model_path(RNN_FILE)),
                       **{f"CNN-{f[8:-4]}": str(model_path(f)) for f in CNN_FILES}}
    if models is None and model_path(TRANSFORMER_FILE).is_file():
        paths["Transformer"] = str(model_path(TRANSFORMER_FILE))
    pos = np.array([e.pos for e in events], np.int64)
    dist = np.array([e.distance for e in events], np.int64)
    kind = np.array([e.kind for e in events])
    info: dict[str, dict[str, Any]] = {}
    correct: dict[str, np.ndarray] = {}
    for name, path in paths.items():
        model = load_model(path)
        recurrent = any(isinstance(layer, RecurrentLayer) for layer in model.layers)
        attention = text_transformer.is_transformer(model)
        t_read = time.process_time()
        if attention:
            arg, bits = text_transformer.argmax_bits(model, ids)
        else:
            arg, bits = rnn_logprobs_argmax_bits(model, ids) if recurrent else cnn_argmax_bits(model, ids)
        t_read = time.process_time() - t_read
        correct[name] = arg[pos - 1] == ids[pos]
        family = "transformer" if attention else "rnn" if recurrent else "cnn"
        info[name] = {"kind": family, "bpc": float(bits.mean()),
                      "params": model.n_params(), "file": os.path.basename(path),
                      "receptive_field": None if recurrent or attention else receptive_field(model),
                      "closer_accuracy": float(correct[name].mean()) if len(pos) else None,
                      "training": training_effort(model),
                      # a measurement (CPU seconds to read the whole text), not a result to compare
                      "read_cpu_seconds": round(t_read, 2)}
        if attention:
            info[name]["context"] = text_transformer.context_length(model)
    rnn = next((n for n, i in info.items() if i["kind"] == "rnn"), None)
    for name, i in info.items():              # every closer a CNN cannot see the opener of
        if i["receptive_field"] is not None:
            sel = dist > i["receptive_field"]
            i["beyond_field"] = {"n": int(sel.sum()),
                                 "accuracy": float(correct[name][sel].mean()) if sel.any() else None,
                                 "rnn_accuracy": float(correct[rnn][sel].mean()) if sel.any() and rnn else None}
        if i.get("context"):                 # closers whose opener lies outside its window
            sel = ~text_transformer.sees(i["context"], pos, dist)
            i["beyond_context"] = {"n": int(sel.sum()),
                                   "accuracy": float(correct[name][sel].mean()) if sel.any() else None,
                                   "rnn_accuracy": float(correct[rnn][sel].mean()) if sel.any() and rnn else None}
    rows = []
    for lo, hi in BINS:
        sel = (dist >= lo) & (dist <= hi)
        row: dict[str, Any] = {"distance_min": lo, "distance_max": None if hi >= 10 ** 8 else hi,
                               "n": int(sel.sum()), "n_brackets": int((sel & (kind == "bracket")).sum()),
                               "n_quotes": int((sel & (kind == "quote")).sum())}
        for name in paths:
            row[name] = float(correct[name][sel].mean()) if sel.any() else None
        rows.append(row)
    return {"task": "text", "axis": "distance", "rows": rows, "models": info,
            # the held-out text is this Python's own standard library: another version's differs
            "held_out": {"source": f"Python {sys.version_info[0]}.{sys.version_info[1]} standard "
                                   f"library validation files ({len(files)})",
                         "n_chars": len(text), "n_closers": len(events),
                         "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
            "seconds": round(time.perf_counter() - t0, 2)}


def format_text_result(r: dict[str, Any]) -> str:
    names = list(r["models"])
    lines = [f"CNN vs RNN on held-out code ({r['held_out']['n_chars']:,} characters, "
             f"{r['held_out']['n_closers']:,} closers): accuracy at closers by opener distance",
             f"{'distance':>10} {'n':>6} " + " ".join(f"{n:>8}" for n in names)]
    for row in r["rows"]:
        hi = row["distance_max"]
        label = f"{row['distance_min']}-{hi}" if hi else f">{row['distance_min'] - 1}"
        cells = " ".join(f"{row[n]:>8.1%}" if row[n] is not None else f"{'-':>8}" for n in names)
        lines.append(f"{label:>10} {row['n']:>6} {cells}")
    lines.append(f"{'all':>10} {r['held_out']['n_closers']:>6} "
                 + " ".join(f"{r['models'][n]['closer_accuracy']:>8.1%}" for n in names))
    lines.append(f"{'bpc':>17} " + " ".join(f"{r['models'][n]['bpc']:>8.3f}" for n in names))
    lines.append(f"{'parameters':>17} " + " ".join(f"{r['models'][n]['params']:>8,}" for n in names))
    lines.append(f"{'field':>17} " + " ".join(
        f"{r['models'][n].get('context') or r['models'][n]['receptive_field'] or '∞':>8}"
        for n in names))
    for n in names:
        b = r["models"][n].get("beyond_field")
        if b and b["n"]:
            lines.append(f"{n}: {b['n']} closers beyond its field of {r['models'][n]['receptive_field']}: "
                         f"{b['accuracy']:.1%} vs the RNN's {b['rnn_accuracy']:.1%}")
        b = r["models"][n].get("beyond_context")
        if b and b["n"]:
            lines.append(f"{n}: {b['n']} closers whose opener is outside its window (context "
                         f"{r['models'][n]['context']}): {b['accuracy']:.1%} vs the RNN's {b['rnn_accuracy']:.1%}")
    lines.append("training (steps · characters seen · CPU seconds · characters per CPU second · "
                 "multiply-adds per character):")
    for n in names:
        t = r["models"][n].get("training") or {}
        if t.get("steps"):
            lines.append(f"  {n}: {t['steps']:,} · {(t.get('chars_seen') or 0) / 1e6:.1f} M · "
                         f"{t.get('train_cpu_seconds') or 0:.0f} s · {t.get('chars_per_cpu_second') or 0:,} · "
                         f"{t['macs_per_char']:,}")
    lines.append(f"({r['seconds']:.1f} s)")
    return "\n".join(lines)


CHECK_CHARS = 150_000    # the shipped result also holds the comparison on this much, for a fast re-check


def main(argv: list[str] | None = None) -> int:
    """``python -m explorer.training.compare_text --out resources/compare/text.json``: the shipped
    result (the whole held-out split, and its first CHECK_CHARS characters for the tests)."""
    import argparse
    import json

    from explorer.atomic import atomic_write_text

    p = argparse.ArgumentParser(prog="python -m explorer.training.compare_text",
                                description="write the Compare lab's CNN-vs-LSTM-on-code result")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    res = text_compare()
    res["check"] = text_compare(CHECK_CHARS)
    res["format"], res["version"] = "cnn-rnn-explorer/compare-text", 1
    atomic_write_text(args.out, json.dumps(res, indent=1, allow_nan=False) + "\n")
    print(format_text_result(res), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
