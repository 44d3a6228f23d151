"""``cnn-rnn-explorer sweep IMAGE --transform NAME [--model FILE] [--json]``: invariance sweep.

The image is preprocessed exactly as ``classify`` does it (``to_mnist``); the transform is
then applied to the 28x28 *network input* (``explorer.analysis.transforms``), so the curve
shows the network's own tolerance, not the centring done before it. The row at the
identity (shift 0, rotate 0, scale 1, thickness 0) equals ``classify``'s probabilities.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from explorer.analysis.transforms import TRANSFORMS, sweep, unit_of
from explorer.commands.classify import load_digit_model
from explorer.data.preprocess import EmptyDrawing, image_to_gray, to_mnist
from explorer.imageio import ImageError, read_image

COMMAND = "sweep"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(COMMAND, help="probabilities of a digit image under a range of shifts, rotations, scales, thicknesses")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("--transform", required=True, choices=TRANSFORMS,
                   help="shift-x / shift-y: -8..8 px; rotate: -60..60 deg; scale: 0.5..1.5; thickness: -3..3 erosions/dilations")
    p.add_argument("--model", type=Path, default=None, help="a digit model file (default: the shipped CNN)")
    p.add_argument("--json", action="store_true")


def sweep_image(path: Path, transform: str, model_file: Path | None) -> dict[str, Any]:
    model, _arch = load_digit_model(model_file)
    try:
        x = to_mnist(image_to_gray(read_image(path)))
    except EmptyDrawing:
        raise ImageError(f"{path}: no ink (the image is blank)") from None
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None
    s = sweep(model, x, transform)
    return {"transform": transform, "values": [float(v) for v in s.values],
            "probs": [[round(float(p), 6) for p in row] for row in s.probs],
            "labels": [int(v) for v in s.labels]}


def run(args: argparse.Namespace) -> int:
    result = sweep_image(args.image, args.transform, args.model)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    unit = unit_of(args.transform)
    print(f"{args.transform} ({unit})  label  " + " ".join(f"{'P(' + str(d) + ')':>6}" for d in range(10)))
    for v, lab, row in zip(result["values"], result["labels"], result["probs"]):
        print(f"{v:>{len(args.transform) + len(unit) + 3}g}  {lab:>5}  " + " ".join(f"{p:6.3f}" for p in row))
    return 0
