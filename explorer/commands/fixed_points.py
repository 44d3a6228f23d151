"""``cnn-rnn-explorer fixed-points --model NAME_OR_FILE [--json]``: the step map's fixed points.

For each input symbol x, the states h* with F(h*, x) = h* (see
``explorer.analysis.fixed_points``), each with its residual ||F(h*) - h*||, the largest
|eigenvalue| of the Jacobian there and whether it is stable (that value < 1).
JSON: ``{"points": [{"input", "h", "residual", "eigenvalues_abs_max", "stable", "kind"}]}``
(an LSTM's points also carry "c").
"""

from __future__ import annotations

import argparse
import json

from explorer.analysis.fixed_points import find_fixed_points
from explorer.engine import load_model
from explorer.training.text import resolve_model

COMMAND = "fixed-points"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(COMMAND, help="fixed points of a small recurrent model, per input symbol")
    p.add_argument("--model", required=True, metavar="NAME_OR_FILE")
    p.add_argument("--json", action="store_true")
    p.add_argument("--starts", type=int, default=48, help="starting states per input symbol")
    p.add_argument("--seed", type=int, default=0)


def _symbol(s: str) -> str:
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(s, s)


def run(args: argparse.Namespace) -> int:
    model = load_model(resolve_model(args.model))
    if any(layer.type_name == "TransformerEncoderLayer" for layer in model.layers):
        from explorer.errors import UserError
        raise UserError(f"{args.model} is a transformer: it carries no state from one step to "
                        "the next, so it has no fixed points (they belong to RNN, LSTM and GRU models)")
    points = find_fixed_points(model, n_starts=max(2, int(args.starts)), seed=int(args.seed))
    if args.json:
        print(json.dumps({"points": [p.to_json() for p in points]}, indent=2))
        return 0
    print(f"{len(points)} fixed point(s) of {args.model} "
          f"({sum(p.stable for p in points)} stable)")
    print(f"{'input':>5}  {'kind':<8} {'residual':>9} {'max |λ|':>8}  h")
    for p in points:
        h = " ".join(f"{v:+.3f}" for v in p.hidden[:12]) + (" …" if len(p.hidden) > 12 else "")
        print(f"{_symbol(p.symbol):>5}  {p.kind:<8} {p.residual:>9.1e} {p.eigenvalues_abs_max:>8.3f}  {h}")
    return 0
