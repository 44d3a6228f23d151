"""``cnn-rnn-explorer generate --model NAME_OR_FILE --prime TEXT --chars N [--temperature T]
[--top-k K] [--seed S] [--clamp UNIT=VALUE]``: print the prime and the model's continuation.

Temperature 0 is greedy argmax; the same seed gives the same text. ``--clamp U=V`` sets
hidden unit U to V in every state the continuation is predicted from (``off`` means 0).

The text is written as it is made (flushed at least ten times a second), so a long run shows
at once and Ctrl+C keeps everything written so far (exit status 130). When stdout is not the
terminal (a file, a pipe) a progress bar goes to stderr for runs of ``LONG_RUN`` characters
or more. On a terminal, control characters are shown escaped (``\x1b``), never obeyed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from explorer.analysis.generate import (
    GenerateError,
    Writer,
    check_settings,
    model_vocab,
    split_recurrent,
    transformer_chars,
)
from explorer.commands.cliargs import for_terminal
from explorer.engine import load_model
from explorer.training.text import resolve_model

COMMAND = "generate"
LONG_RUN = 2_000          # characters: a run this long shows a progress bar (stdout not a terminal)
FLUSH_SECONDS = 0.1


def parse_clamp(text: str) -> tuple[int, float]:
    """"U=V" (V a number, or "off" for 0) -> (U, V); GenerateError for anything else."""
    unit, sep, value = str(text).partition("=")
    try:
        if not sep:
            raise ValueError
        v = 0.0 if value.strip().lower() == "off" else float(value)
        return int(unit), v
    except ValueError:
        raise GenerateError(f"--clamp expects UNIT=VALUE (e.g. 17=0.9 or 17=off), got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(COMMAND, help="let a char model continue a text")
    p.add_argument("--model", default="code_lstm", metavar="NAME_OR_FILE")
    p.add_argument("--prime", required=True, metavar="TEXT")
    p.add_argument("--chars", type=int, required=True, metavar="N")
    p.add_argument("--temperature", type=float, default=1.0, metavar="T",
                   help="0 = greedy (always the most likely character)")
    p.add_argument("--top-k", type=int, default=0, metavar="K", help="0 = all characters")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--clamp", default=None, metavar="UNIT=VALUE",
                   help="hold hidden unit UNIT at VALUE ('off' = 0) while writing")


def run(args: argparse.Namespace) -> int:
    clamp = parse_clamp(args.clamp) if args.clamp is not None else None
    model = load_model(resolve_model(args.model))
    if any(layer.type_name == "TransformerEncoderLayer" for layer in model.layers):
        if clamp is not None:
            raise GenerateError("--clamp holds a unit of a recurrent state; a transformer has none")
        if model.meta.get("task") == "toy":
            raise GenerateError(f"{args.model} predicts classes, not its next input symbol, so it "
                                "cannot write (use a text model such as code_transformer)")
        check_settings(args.temperature, args.top_k, args.chars)
        return stream(TransformerWriter(model, args.prime), args, sys.stdout, sys.stderr)
    _, _, post = split_recurrent(model)
    vocab = model_vocab(model)
    n_out = getattr(post[-1], "out_features", None) if post else None
    if model.meta.get("task") == "toy" or n_out != vocab.size:
        raise GenerateError(f"{args.model} predicts classes, not its next input symbol, so it "
                            "cannot write (use a text model such as code_lstm)")
    check_settings(args.temperature, args.top_k, args.chars)
    writer = Writer(model, clamp)
    writer.read(args.prime)
    return stream(writer, args, sys.stdout, sys.stderr)


@dataclass(frozen=True)
class _Char:
    char: str


class TransformerWriter:
    """A transformer seen as a ``Writer``: ``write`` yields the steps ``stream`` prints."""

    def __init__(self, model: Any, prime: str) -> None:
        self.model, self.prime = model, prime

    def write(self, n: int, temperature: float, top_k: int, seed: int | None) -> Iterator[_Char]:
        for c in transformer_chars(self.model, self.prime, n, temperature, top_k, seed):
            yield _Char(c)


def stream(writer: Writer | TransformerWriter, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write the prime, then each character as it comes (flushed in small batches); Ctrl+C
    keeps what was written. -> exit status (0, or 130 when interrupted)."""
    from explorer.training.progress import ProgressBar
    show = for_terminal(out)
    bar = ProgressBar(args.chars, "generate", stream=err,
                      enabled=args.chars >= LONG_RUN and not getattr(out, "isatty", lambda: False)())
    out.write(show(args.prime))
    out.flush()
    pending: list[str] = []
    done, last = 0, time.perf_counter()

    def flush() -> None:
        nonlocal done, last
        if pending:
            out.write(show("".join(pending)))
            out.flush()
            bar.update(len(pending))
            done += len(pending)
            pending.clear()
        last = time.perf_counter()

    try:
        for step in writer.write(args.chars, args.temperature, args.top_k, args.seed):
            pending.append(step.char)
            if len(pending) >= 4096 or time.perf_counter() - last > FLUSH_SECONDS:
                flush()
    except KeyboardInterrupt:
        flush()
        out.write("\n")
        out.flush()
        bar.close()
        print(f"cnn-rnn-explorer generate: interrupted after {done:,} of {args.chars:,} characters; "
              "what was written is kept", file=err)
        return 130
    flush()
    bar.close()
    out.write("\n")
    out.flush()
    return 0
