"""``cnn-rnn-explorer compare-snapshot --task recall|motif [--distance D] [--steps N] --out FILE.json``

Trains the Compare lab's CNN/LSTM pair exactly as the lab does (same seed, same batches)
and writes what the lab's three plots show — per-step losses, accuracy against distance
(or length), and the influence of each input of the sample sequence — as JSON (atomic).
The shipped ``resources/compare/duel_<task>.json`` files are made with it, so the Compare
lab can show the answer the moment it opens.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from explorer.commands.cliargs import out_file

COMMAND = "compare-snapshot"
FORMAT = "cnn-rnn-explorer/compare-duel"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(COMMAND, help="train the Compare lab's pair once and save its plots as JSON")
    p.add_argument("--task", choices=["recall", "motif"], default="recall")
    p.add_argument("--distance", type=int, default=20)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--out", required=True, type=out_file)
    p.add_argument("--quiet", action="store_true")


def snapshot(task: str, distance: int, steps: int, quiet: bool = True) -> dict[str, Any]:
    """Train a fresh Duel to the end; -> the JSON-able record of its plots."""
    from explorer.session.compare import Duel
    duel = Duel(task, distance, steps)
    losses: dict[str, list[float]] = {n: [] for n in duel.names}
    while not duel.done():
        for name, (loss, _acc) in duel.step().items():
            losses[name].append(round(float(loss), 5))
        if not quiet and duel.step_count % 50 == 0:
            print(f"step {duel.step_count}/{steps}", file=sys.stderr)
    grid, acc = duel.accuracy_curve()
    infl = duel.influence()
    from explorer.engine import LearnedPositions
    contexts = [la.max_len for c in duel.pair for la in c.model.layers if isinstance(la, LearnedPositions)]
    return {"format": FORMAT, "version": 1, "task": task, "distance": duel.distance, "steps": steps,
            "seed": 0, "names": duel.names, "params": duel.n_params, "sample": duel.sample_text(),
            "kinds": {c.name: c.kind for c in duel.pair},
            "context": contexts[0] if contexts else None,
            "train_seconds": {c.name: round(c.train_seconds, 2) for c in duel.pair},
            "loss": losses, "grid": [float(g) for g in grid],
            "acc": {k: [round(float(a), 5) for a in v] for k, v in acc.items()},
            "influence": {k: [float(a) for a in v] for k, v in infl.items()}}


def run(args: argparse.Namespace) -> int:
    from explorer.atomic import atomic_write_text
    snap = snapshot(args.task, args.distance, args.steps, args.quiet)
    atomic_write_text(args.out, json.dumps(snap, allow_nan=False))
    accs = {k: v[-1] for k, v in snap["acc"].items()}
    print(f"{args.out}: {args.task}, {args.steps} steps; accuracy at the largest distance/length: "
          + ", ".join(f"{k} {v:.2f}" for k, v in accs.items()))
    return 0
