"""``cnn-rnn-explorer generate --model NAME_OR_FILE --prime TEXT --chars N [--temperature T]
[--top-k K] [--seed S] [--clamp UNIT=VALUE]``: print the prime and the model's continuation.

Temperature 0 is greedy argmax; the same seed gives the same text. ``--clamp U=V`` sets
hidden unit U to V in every state the continuation is predicted from (``off`` means 0).
"""

from __future__ import annotations

import argparse
import sys

from explorer.analysis.generate import (
    GenerateError,
    generate,
    generate_transformer,
    model_vocab,
    split_recurrent,
)
from explorer.engine import load_model
from explorer.training.text import resolve_model

COMMAND = "generate"


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
        text = generate_transformer(model, args.prime, args.chars, args.temperature, args.top_k,
                                    args.seed)
        sys.stdout.write(args.prime + text + "\n")
        return 0
    _, _, post = split_recurrent(model)
    vocab = model_vocab(model)
    n_out = getattr(post[-1], "out_features", None) if post else None
    if model.meta.get("task") == "toy" or n_out != vocab.size:
        raise GenerateError(f"{args.model} predicts classes, not its next input symbol, so it "
                            "cannot write (use a text model such as code_lstm)")
    text = generate(model, args.prime, args.chars, args.temperature, args.top_k, args.seed, clamp)
    sys.stdout.write(args.prime + text + "\n")
    return 0
