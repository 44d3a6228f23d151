"""``cnn-rnn-explorer classify FILE... [--model FILE] [--json] [--reverse-strokes]``: label
and 10 probabilities.

A FILE is an image or a stroke file (``explorer.data.strokefile``: the app's own drawing
format). A pen model (``explorer.data.pen.is_pen_model``) reads a stroke file's strokes in
writing order, through the same causal encoding as the Digit Lab's live reader
(reference units -> ``pen_features``), and its answer is the reading after the last pen
event; an image model reads the strokes rendered through the canvas pipeline
(``preprocess_strokes`` on reference units, as the canvas does). ``--reverse-strokes``
reverses the stroke order and each stroke's points (an image model's answer cannot
change: the rendering does not depend on the pen's direction or order).

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

import numpy as np

from explorer.commands.cliargs import dumps_json, for_terminal
from explorer.data.pen import PenSpec, is_pen_model, pen_features
from explorer.data.preprocess import EmptyDrawing, image_to_gray, preprocess_strokes, to_mnist
from explorer.data.strokefile import StrokeFileError, looks_like_stroke_file, read_stroke_file
from explorer.engine import Model, ModelFileError, load_model, log_softmax
from explorer.imageio import ImageError, read_image
from explorer.paths import model_path
from explorer.training.digits import NotADigitModel, digit_arch, predict_proba

PROG = "cnn-rnn-explorer classify"
DEFAULT_MODEL = "digits_cnn.npz"


def _error(what: str) -> None:
    print(for_terminal(sys.stderr)(f"{PROG}: error: {what}"), file=sys.stderr)


def pen_spec(model: Model) -> PenSpec:
    """A pen model's encoding, checked against its first layer; NotADigitModel otherwise."""
    from explorer.data.pen import PenSpecError
    try:
        spec = PenSpec.from_meta(model.meta.get("pen"))
    except PenSpecError as exc:
        raise NotADigitModel(f"is a pen model with a bad encoding: {exc}") from None
    first = model.layers[0] if model.layers else None
    if getattr(first, "input_size", None) != spec.n_features:
        raise NotADigitModel(f"is a pen model whose first layer does not read "
                             f"{spec.n_features} pen features")
    out = model.predict(pen_features([[[0.0, 0.0], [20.0, 0.0]]], spec)[None])
    if out.ndim != 3 or out.shape[-1] != 10:
        raise NotADigitModel(f"is a pen model that does not give 10 outputs per pen step "
                             f"(it gives {out.shape[1:]})")
    return spec


def load_digit_model(path: Path | None) -> tuple[Model, str]:
    """--model FILE (default: the shipped CNN) -> (model, "cnn" | "rowrnn" | "pen").

    Raises ModelFileError or NotADigitModel (message starts with the file name).
    """
    path = Path(path) if path is not None else model_path(DEFAULT_MODEL)
    model = load_model(path)
    if is_pen_model(model):
        try:
            pen_spec(model)
        except NotADigitModel as exc:
            raise NotADigitModel(f"{path}: {exc}") from None
        return model, "pen"
    try:
        return model, digit_arch(model)
    except NotADigitModel as exc:
        raise NotADigitModel(f"{path}: {exc}") from None


def pen_reading(model: Model, strokes: list[Any], spec: PenSpec | None = None) -> Any:
    """Strokes in reference units -> the pen model's reading after the last pen event, (10,)
    float64 (what the Digit Lab's ``pen_probabilities()`` gives for the same strokes)."""
    rows = pen_features(strokes, spec or pen_spec(model))
    if not len(rows):
        raise EmptyDrawing()
    logits = model.predict(rows[None])[0, -1]
    return np.exp(log_softmax(logits.astype(np.float64)))


def classify_strokes(model: Model, arch: str, path: Path, reverse: bool = False) -> dict[str, Any]:
    """One stroke file -> {"image", "label", "probabilities", "reads"}; StrokeFileError /
    EmptyDrawing / OSError."""
    strokes = read_stroke_file(path).reference(reverse)
    if arch == "pen":
        probs, reads = pen_reading(model, strokes), "pen"
    else:
        probs, reads = predict_proba(model, preprocess_strokes(strokes)[None], arch)[0], "picture"
    return {"image": str(path), "label": int(probs.argmax()),
            "probabilities": [round(float(p), 6) for p in probs], "reads": reads,
            "reversed": bool(reverse)}


def classify_image(model: Model, arch: str, path: Path) -> dict[str, Any]:
    """One image file -> {"image", "label", "probabilities"}; ImageError / EmptyDrawing."""
    if arch == "pen":
        raise ValueError("a pen model reads stroke files (the app's drawing .json), not images")
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
    if getattr(args, "ablate", None) and arch == "pen":
        _error("--ablate switches off channels of an image model's layers, not of a pen model")
        return 2
    ablated: list[str] = []
    if getattr(args, "ablate", None):          # a copy with channels switched off, said in the output
        from explorer.analysis.edits import edited_copy, parse_channels
        channels = parse_channels(args.ablate, model)
        model = edited_copy(model, {lc: 0.0 for lc in channels})
        ablated = [f"{layer}:{channel}" for layer, channel in channels]
    results, failed = [], 0
    reverse = bool(getattr(args, "reverse_strokes", False))
    for path in args.images:
        try:
            if looks_like_stroke_file(path):
                results.append(classify_strokes(model, arch, Path(path), reverse))
            elif reverse:
                raise ValueError("--reverse-strokes needs a stroke file, not an image")
            else:
                results.append(classify_image(model, arch, Path(path)))
            if ablated:
                results[-1]["ablated"] = ablated
        except EmptyDrawing:
            _error(f"{path}: no ink (the image is blank)")
            failed += 1
        except (ImageError, StrokeFileError, OSError, ValueError) as exc:
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
