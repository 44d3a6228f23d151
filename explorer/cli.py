"""``cnn-rnn-explorer``: the window, or one of the sub-commands (none of which opens it).

User mistakes print one clear line to stderr and exit with status 2; no traceback. The
arguments are checked before any work: numbers against their ranges (``positive_int``
...), ``--out`` against the disk (``out_file``: its folder exists and takes a new file),
so a wrong argument never costs a training run. ``--json`` output goes through
``dumps_json``: valid JSON, non-finite numbers written as null. (Those helpers live in
``explorer.commands.cliargs`` so that every sub-command module can use them.)
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from explorer.commands.cliargs import dumps_json, float_in_range, int_in_range, non_negative_int, out_file, positive_int
from explorer.errors import ExplorerError, UserError

__all__ = ["ExplorerError", "OneLineParser", "UserError", "build_parser", "dumps_json", "main",
           "out_file", "positive_int", "int_in_range", "non_negative_int"]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose mistakes are one line on stderr (no usage block), exit 2.

    ``add_subparsers`` builds sub-parsers of the same class, so every sub-command agrees."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _add_transformer_shape(p: Any) -> None:
    g = p.add_argument_group("transformer (--cell transformer)")
    g.add_argument("--layers", type=int_in_range(1, 64), default=None, help="blocks (default 4)")
    g.add_argument("--heads", type=int_in_range(1, 64), default=None,
                   help="attention heads per block; must divide --hidden (default 4)")
    g.add_argument("--context", type=int_in_range(2, 100_000), default=None,
                   help="context length: positions it reads at once (default 128)")
    g.add_argument("--ff", type=int_in_range(1, 100_000), default=None,
                   help="feed-forward width (default 3 x --hidden)")


def _unit_weight(text: str) -> float:
    """An argparse type: a finite number between 0 and 10."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 10.0:          # NaN fails too
        raise argparse.ArgumentTypeError(f"must be between 0 and 10, got {text}")
    return value


def _add_train(sub: Any) -> None:
    train = sub.add_parser("train", help="train a model and save it (atomic) to --out")
    kinds = train.add_subparsers(dest="kind", required=True, metavar="{digits,text,task,pen}")

    d = kinds.add_parser("digits", help="a CNN (or row-by-row RNN) on MNIST digits")
    d.add_argument("--out", required=True, type=out_file)
    d.add_argument("--mnist", help="folder of MNIST IDX files or an mnist.npz")
    d.add_argument("--epochs", type=int_in_range(1, 100_000), default=None)
    d.add_argument("--seed", type=non_negative_int, default=0)
    d.add_argument("--arch", choices=["cnn", "rowrnn"], default="cnn",
                   help="cnn: LeNet-style CNN; rowrnn: an LSTM reading the 28 rows")
    d.add_argument("--pen-data", type=Path, default=None, metavar="NPZ",
                   help="also train on real pen digits (a UNIPEN npz; training writers only), "
                        "rendered through the canvas pipeline")
    d.add_argument("--init", type=Path, default=None, metavar="MODEL",
                   help="start from this model's weights (same architecture), lower learning rate")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    # -- fine-tuning on the user's examples (the app's my_digits folder) --
    d.add_argument("--finetune", type=Path, default=None, metavar="MODEL",
                   help="start from this model and fine-tune it on --examples (mixed with MNIST)")
    d.add_argument("--examples", type=Path, default=None, metavar="DIR",
                   help="folder with sub-folders 0 to 9 of digit images (the app's my_digits)")

    t = kinds.add_parser("text", help="a character-level RNN/LSTM/GRU/transformer on a text corpus")
    t.add_argument("--corpus", default="code", help="code, prose, or a text file or folder")
    t.add_argument("--cell", choices=["rnn", "lstm", "gru", "transformer"], default="lstm")
    t.add_argument("--hidden", type=int_in_range(1, 4096), default=128,
                   help="hidden units (a transformer: its width d_model)")
    _add_transformer_shape(t)
    t.add_argument("--out", required=True, type=out_file)
    t.add_argument("--steps", type=int_in_range(1, 10_000_000), default=None,
                   help="optimiser steps")
    t.add_argument("--train-chars", type=int_in_range(1_000, 1_000_000_000), default=None,
                   help="characters of the corpus to train on (default: 12 M code, 3 M prose)")
    t.add_argument("--dropout", type=float_in_range(0.0, 0.9), default=0.0,
                   help="dropout on the hidden outputs while training (0 = none)")
    t.add_argument("--descriptions", action="store_true",
                   help="prose: also the installed packages' long descriptions (informal English)")
    t.add_argument("--reflow", action="store_true",
                   help="prose: half the wrapped paragraphs as one long line, as English on the web is written")
    t.add_argument("--seed", type=non_negative_int, default=0)
    t.add_argument("--quiet", action="store_true")

    from explorer.data.unipen import DEFAULT_PATH as UNIPEN_PATH
    pn = kinds.add_parser("pen", help="an LSTM/GRU that reads a digit as pen events (real pen digits)")
    pn.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    pn.add_argument("--hidden", type=int_in_range(1, 1024), default=64)
    pn.add_argument("--data", type=Path, default=Path(UNIPEN_PATH),
                    help="UNIPEN digits npz (training only; the app never reads it)")
    pn.add_argument("--out", required=True, type=out_file)
    pn.add_argument("--epochs", type=int_in_range(1, 10_000), default=20)
    pn.add_argument("--seed", type=non_negative_int, default=0)
    pn.add_argument("--batch", type=int_in_range(1, 4096), default=48, help="sequences per step")
    pn.add_argument("--early", type=_unit_weight, default=0.3,
                    help="weight of the loss on the readings before the last pen event")
    pn.add_argument("--reverse-share", type=_unit_weight, default=0.0,
                    help="share of training digits with one stroke drawn backwards (0-1)")
    pn.add_argument("--quiet", action="store_true", help="no progress bar")

    k = kinds.add_parser("task", help="a small recurrent model on a toy language")
    k.add_argument("--task", required=True)
    k.add_argument("--cell", choices=["rnn", "lstm", "gru", "transformer"], default=None,
                   help="default: the cell each toy model ships with (gru)")
    _add_transformer_shape(k)
    k.add_argument("--hidden", type=int_in_range(1, 4096), default=None,
                   help="default: the width chosen for that task (2-16 units)")
    k.add_argument("--length", type=int_in_range(2, 100_000), default=None)
    k.add_argument("--out", required=True, type=out_file)
    k.add_argument("--steps", type=int_in_range(1, 10_000_000), default=None)
    k.add_argument("--seed", type=non_negative_int, default=0)
    k.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="cnn-rnn-explorer",
        description="See, live, what a CNN and an RNN compute. Without a sub-command: open the window.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("classify", help="label and probabilities of digit images or stroke files")
    c.add_argument("images", nargs="+", type=Path, metavar="FILE",
                   help="an image, or a stroke file {\"canvas\": W, \"strokes\": [[[x, y], ...], ...]}")
    c.add_argument("--reverse-strokes", action="store_true",
                   help="read each stroke file's strokes (and their points) in reverse order")
    c.add_argument("--model", type=Path, default=None)
    c.add_argument("--json", action="store_true")
    c.add_argument("--ablate", default=None, metavar="L:C[,L:C...]",  # the Digit Lab's switched-off channels
                   help="switch channel C of layer L (state-dict index) off, e.g. 0:5,3:2")

    s = sub.add_parser("score-text", help="bits per character of a text under a text model")
    s.add_argument("file", type=Path, metavar="FILE")
    s.add_argument("--model", default="code_lstm", metavar="NAME_OR_FILE")
    s.add_argument("--json", action="store_true")

    _add_train(sub)

    b = sub.add_parser("bench", help="the performance table")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="fewer repetitions")
    b.add_argument("--soak", action="store_true",
                   help="also draw 20,000 scripted pen moves and report memory growth")

    m = sub.add_parser("compare", help="CNN vs RNN on a toy task or on held-out code, by distance")
    m.add_argument("--task", choices=["long-range", "motif", "text", "digits-three-ways"], required=True)
    m.add_argument("--json", action="store_true")
    m.add_argument("--seed", type=non_negative_int, default=0)
    m.add_argument("--data", type=Path, default=None, metavar="NPZ",
                   help="digits-three-ways: the UNIPEN digits npz whose held-out writers are read")
    m.add_argument("--out", type=out_file, default=None,
                   help="digits-three-ways: also write the JSON to this file")

    for module in _command_modules():
        module.add_parser(sub)
    return p


def _command_modules() -> list[Any]:
    """Sub-commands that live in their own module: every ``explorer.commands.<name>`` module
    that defines ``COMMAND`` (its name), ``add_parser(subparsers)`` and ``run(args) -> int``.
    Found by listing the package, so adding a command touches no shared file."""
    import importlib
    import pkgutil

    import explorer.commands as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"explorer.commands.{info.name}")
        if hasattr(module, "COMMAND") and hasattr(module, "add_parser") and hasattr(module, "run"):
            found.append(module)
    return found


def _cmd_classify(args: argparse.Namespace) -> int:
    from explorer.commands import classify
    return classify.run(args)


def _cmd_score(args: argparse.Namespace) -> int:
    from explorer.training import text
    result = text.score_text_file(args.file, args.model, progress=True)
    if args.json:
        print(dumps_json(result))
        return 0
    base = result["baseline_bits_per_char"]
    print(f"{args.file}: {result['bits_per_char']:.3f} bits/char with {result['model']} "
          f"({result['n_chars']} characters); n-gram baseline "
          + (f"{base:.3f} bits/char" if math.isfinite(base) else "unavailable"))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.kind == "digits" and getattr(args, "examples", None) is not None and args.finetune is None:
        raise UserError("--examples needs --finetune MODEL (the model to start from)")
    if args.kind == "digits" and getattr(args, "finetune", None) is not None:
        from explorer.imageio import read_image
        from explorer.training import finetune
        summary = finetune.finetune_cli(args, read_image)
    elif args.kind == "digits":
        from explorer.training import digits
        summary = digits.train_digits_cli(args)
    elif args.kind == "pen":
        from explorer.training import pen
        summary = pen.train_pen_cli(args)
    elif args.kind == "text":
        from explorer.training import text
        summary = text.train_text_cli(args)
    else:
        from explorer.training import text
        summary = text.train_task_cli(args)
    print(dumps_json(summary))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from explorer.commands import bench
    return bench.run(args)


def _three_ways(args: argparse.Namespace) -> int:
    """``compare --task digits-three-ways --data NPZ [--out FILE] [--json]``: print the table
    (or the JSON) and, with ``--out``, write the JSON there atomically."""
    from explorer.atomic import atomic_write_text
    from explorer.data.unipen import DEFAULT_PATH
    from explorer.training.three_ways import format_table, three_ways

    data = args.data if args.data is not None else Path(DEFAULT_PATH)
    say = None if args.json else (lambda s: print(s, file=sys.stderr, flush=True))
    result = three_ways(data, args.out, progress=say)
    text = dumps_json(result)
    if args.out is not None:
        atomic_write_text(args.out, text + "\n")
    print(text if args.json else format_table(result))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.task == "digits-three-ways":
        return _three_ways(args)
    if getattr(args, "data", None) is not None or getattr(args, "out", None) is not None:
        raise UserError("--data and --out belong to --task digits-three-ways")
    from explorer.training import compare
    return compare.run_cli(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "classify": _cmd_classify, "score-text": _cmd_score, "train": _cmd_train,
    "bench": _cmd_bench, "compare": _cmd_compare,
}


_USER_ERRORS: tuple[type[BaseException], ...] = (
    ExplorerError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
"""Exceptions that mean "the user gave us something wrong": one line, no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    from explorer.runtime import configure_process

    configure_process()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0].lower().endswith(".cre"):     # `cnn-rnn-explorer lesson.cre`: what a file manager runs
        argv = ["open", argv[0]]
    elif argv == ["--install-desktop-entry"]:
        argv = ["install-desktop-entry"]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:      # --help (0) or a mistake (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        from explorer.ui.shell.launch import open_window
        return open_window()
    handlers = dict(COMMANDS)
    handlers.update({m.COMMAND: m.run for m in _command_modules()})
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("cnn-rnn-explorer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - sorted below
        if isinstance(exc, _USER_ERRORS):
            msg = str(exc) or exc.__class__.__name__
            if isinstance(exc, OSError) and exc.filename:
                msg = f"{exc.filename}: {exc.strerror or msg}"
            print(f"cnn-rnn-explorer {args.command}: error: {msg}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
