"""``cnn-rnn-explorer convert MODEL.onnx --out MODEL.npz [--json]``: an ONNX network as a model file.

Needs the optional ``onnx`` package (``pip install -e ".[onnx]"``). The layers found are
printed (or, with ``--json``, ``{"out", "layers", "parameters"}``); an unsupported operator
prints one line naming it and exits 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from explorer.commands.cliargs import out_file

COMMAND = "convert"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(COMMAND, help="convert an ONNX model (PyTorch, Keras via tf2onnx, ...) to a model file")
    p.add_argument("model", type=Path, metavar="MODEL.onnx")
    p.add_argument("--out", required=True, type=out_file, metavar="MODEL.npz")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from explorer.engine import save_model
    from explorer.onnx_import import convert_onnx
    model = convert_onnx(args.model)
    save_model(model, args.out)
    layers = [layer.type_name for layer in model.layers]
    n = int(sum(v.size for v in model.parameters().values()))
    if args.json:
        print(json.dumps({"out": str(args.out), "layers": layers, "parameters": n}))
    else:
        print(f"{args.out}: {' → '.join(layers)} ({n:,} parameters)")
    return 0
