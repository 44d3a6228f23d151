"""``cnn-rnn-explorer dream --target class:K|L:C [--model FILE] [--steps N] [--seed S] --out PNG [--json]``.

Gradient ascent on the 28x28 input through the engine's own ``Model.backward`` for a class
(its log-probability) or a channel / unit (``L:C``: mean of channel C of layer L's output).
The image is drawn by three pen strokes whose points follow the gradient, with springs and
jitter (``explorer.analysis.pen_dreams``): free-pixel dreams with L2, blur and jitter
came out as grey smudges; the app offers both.
The PNG is the final 28x28 network input, each pixel a 10x10 block, dark ink on white.
``--steps`` is a cap: a class dream stops once the PNG's 8-bit image reads as its class with
p >= 0.95, a channel dream once its activation stops rising (``experiments.dream``).
JSON: ``{"target", "start_activation", "final_activation", "probs", "steps"}`` (probs: the
model's reading of the final image, measured on the 8-bit image the PNG holds; steps: how
many steps it took).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from explorer.analysis.dreams import GOAL_P, dream, parse_target
from explorer.analysis.edits import ExperimentError
from explorer.analysis.pen_dreams import PenSettings
from explorer.atomic import atomic_write_via_name
from explorer.commands.classify import load_digit_model
from explorer.imageio import write_gray_png

COMMAND = "dream"
PIXEL = 10          # each network pixel becomes a PIXEL x PIXEL block in the PNG
STOPS = {"goal": f"goal p >= {GOAL_P} reached", "plateau": "activation no longer rising",
         "cap": "step cap reached", "stopped": "stopped"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(COMMAND, help="the input a class or a channel responds to most (gradient ascent)")
    p.add_argument("--target", required=True, help="class:K (a digit 0-9) or LAYER:CHANNEL, e.g. 0:5 or 3:2")
    p.add_argument("--model", type=Path, default=None, help="a digit model file (default: the shipped CNN)")
    p.add_argument("--steps", type=int, default=PenSettings().steps,
                   help=f"a cap (default {PenSettings().steps}): a class dream stops once read at p >= {GOAL_P}, "
                        "a channel dream once its activation stops rising")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, type=checked_out, help="the PNG to write")
    p.add_argument("--json", action="store_true")


def checked_out(text: str) -> Path:
    """--out, checked before any work: its folder exists and takes a new file (cliargs.out_file)."""
    from explorer.commands.cliargs import out_file
    return out_file(text)


def save_dream_png(path: Path, image: np.ndarray) -> None:
    """image: (28, 28) ink in [0, 1] -> PNG, dark ink on white, PIXEL x PIXEL blocks (atomic)."""
    big = np.kron(1.0 - np.clip(image, 0.0, 1.0), np.ones((PIXEL, PIXEL)))
    if not Path(path).parent.is_dir():
        raise ExperimentError(f"{path}: the folder does not exist")
    atomic_write_via_name(path, lambda tmp: write_gray_png(tmp, big))


def run(args: argparse.Namespace) -> int:
    if args.steps < 1 or args.steps > 100_000:
        raise ExperimentError(f"--steps must be between 1 and 100000, got {args.steps}")
    model, _arch = load_digit_model(args.model)
    target = parse_target(args.target, model)
    d = dream(model, target, PenSettings(steps=args.steps), seed=args.seed)
    save_dream_png(args.out, d.image)
    result: dict[str, Any] = {"target": target.text, "start_activation": round(d.start_activation, 6),
                              "final_activation": round(d.final_activation, 6),
                              "probs": [round(float(p), 6) for p in d.probs], "steps": d.steps}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        what = "log P" if target.kind == "class" else "mean activation"
        print(f"{target.text}: {what} {d.start_activation:.4f} -> {d.final_activation:.4f} in {d.steps} steps "
              f"({STOPS[d.stop]}); read as {int(np.argmax(d.probs))} (p = {float(np.max(d.probs)):.3f}); wrote {args.out}")
    return 0
