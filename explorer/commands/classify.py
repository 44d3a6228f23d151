"""``cnn-rnn-explorer classify IMAGE... [--model FILE] [--json]``: label and 10 probabilities.

Each image is read through Qt's image reader (``imageio``), turned grey, made MNIST-style
by the same preprocessing the canvas uses (``to_mnist``: auto-invert, crop, scale the
longer side to 20 px, centre the mass), and run through the digit model. A problem with
one image prints one line on stderr and the others are still classified; the exit status
is then 2. A bad model stops everything with one line and status 2. With ``--ablate`` the
switched-off channels are said above the table and listed in each JSON result
(``"ablated": ["0:5", ...]``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from explorer.commands.cliargs import dumps_json, for_terminal
from explorer.data.preprocess import EmptyDrawing, image_to_gray, to_mnist
from explorer.engine import Model, ModelFileError, load_model
from explorer.imageio import ImageError, read_image
from explorer.paths import model_path
from explorer.training.digits import NotADigitModel, digit_arch, predict_proba

PROG = "cnn-rnn-explorer classify"
DEFAULT_MODEL = "digits_cnn.npz"


def _error(what: str) -> None:
    print(for_terminal(sys.stderr)(f"{PROG}: error: {what}"), file=sys.stderr)


def load_digit_model(path: Path | None) -> tuple[Model, str]:
    """--model FILE (default: the shipped CNN) -> (model, "cnn" | "rowrnn").

    Raises ModelFileError or NotADigitModel (message starts with the file name).
    """
    path = Path(path) if path is not None else model_path(DEFAULT_MODEL)
    model = load_model(path)
    try:
        return model, digit_arch(model)
    except NotADigitModel as exc:
        raise NotADigitModel(f"{path}: {exc}") from None


def classify_image(model: Model, arch: str, path: Path) -> dict[str, Any]:
    """One image file -> {"image", "label", "probabilities"}; ImageError / EmptyDrawing."""
    gray = image_to_gray(read_image(path))
    probs = predict_proba(model, to_mnist(gray)[None], arch)[0]
    return {"image": str(path), "label": int(probs.argmax()),
            "probabilities": [round(float(p), 6) for p in probs]}


def format_table(results: list[dict[str, Any]]) -> str:
    """Results -> a text table: image, label, then P(0) ... P(9)."""
    width = max([len("image")] + [len(r["image"]) for r in results])
    head = f"{'image':<{width}}  label  " + " ".join(f"{'P(' + str(d) + ')':>6}" for d in range(10))
    rows = [f"{r['image']:<{width}}  {r['label']:>5}  "
            + " ".join(f"{p:6.3f}" for p in r["probabilities"]) for r in results]
    return "\n".join([head, *rows])


def run(args: argparse.Namespace) -> int:
    """Classify ``args.images`` with ``args.model``; print a table or ``--json``. -> exit status."""
    try:
        model, arch = load_digit_model(args.model)
    except (ModelFileError, NotADigitModel) as exc:
        _error(str(exc))
        return 2
    ablated: list[str] = []
    if getattr(args, "ablate", None):          # a copy with channels switched off, said in the output
        from explorer.analysis.experiments import edited_copy, parse_channels
        channels = parse_channels(args.ablate, model)
        model = edited_copy(model, {lc: 0.0 for lc in channels})
        ablated = [f"{layer}:{channel}" for layer, channel in channels]
    results, failed = [], 0
    for path in args.images:
        try:
            results.append(classify_image(model, arch, Path(path)))
            if ablated:
                results[-1]["ablated"] = ablated
        except EmptyDrawing:
            _error(f"{path}: no ink (the image is blank)")
            failed += 1
        except (ImageError, OSError, ValueError) as exc:
            _error(f"{path}: {exc}")
            failed += 1
    if args.json:
        print(dumps_json(results))
    elif results:
        show = for_terminal(sys.stdout)
        if ablated:
            print("ablated (switched off): " + ", ".join(
                f"layer {a.split(':')[0]} channel {a.split(':')[1]}" for a in ablated))
        print(show(format_table(results)))
    return 2 if failed else 0
