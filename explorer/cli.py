"""``cnn-rnn-explorer``: the window, or one of the sub-commands (none of which opens it).

User mistakes print one clear line to stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from explorer.errors import ExplorerError, UserError

__all__ = ["ExplorerError", "UserError", "build_parser", "main"]


def _add_train(sub: Any) -> None:
    train = sub.add_parser("train", help="train a model and save it (atomic) to --out")
    kinds = train.add_subparsers(dest="kind", required=True, metavar="{digits,text,task}")

    d = kinds.add_parser("digits", help="a CNN (or row-by-row RNN) on MNIST digits")
    d.add_argument("--out", required=True, type=Path)
    d.add_argument("--mnist", help="folder of MNIST IDX files or an mnist.npz")
    d.add_argument("--epochs", type=int, default=None)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--arch", choices=["cnn", "rowrnn"], default="cnn",
                   help="cnn: LeNet-style CNN; rowrnn: an LSTM reading the 28 rows")
    d.add_argument("--quiet", action="store_true", help="no progress bar")

    t = kinds.add_parser("text", help="a character-level RNN/LSTM/GRU on a text corpus")
    t.add_argument("--corpus", default="code", help="code, prose, or a text file or folder")
    t.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="lstm")
    t.add_argument("--hidden", type=int, default=128)
    t.add_argument("--out", required=True, type=Path)
    t.add_argument("--steps", type=int, default=None, help="optimiser steps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet", action="store_true")

    k = kinds.add_parser("task", help="a small recurrent model on a toy language")
    k.add_argument("--task", required=True)
    k.add_argument("--cell", choices=["rnn", "lstm", "gru"], default=None,
                   help="default: the cell each toy model ships with (gru)")
    k.add_argument("--hidden", type=int, default=None,
                   help="default: the width chosen for that task (2-16 units)")
    k.add_argument("--length", type=int, default=None)
    k.add_argument("--out", required=True, type=Path)
    k.add_argument("--steps", type=int, default=None)
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnn-rnn-explorer",
        description="See, live, what a CNN and an RNN compute. Without a sub-command: open the window.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("classify", help="label and probabilities of digit images")
    c.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    c.add_argument("--model", type=Path, default=None)
    c.add_argument("--json", action="store_true")

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
    m.add_argument("--task", choices=["long-range", "motif", "text"], required=True)
    m.add_argument("--json", action="store_true")
    m.add_argument("--seed", type=int, default=0)

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
    result = text.score_text_file(args.file, args.model)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.file}: {result['bits_per_char']:.3f} bits/char with {result['model']} "
              f"({result['n_chars']} characters); n-gram baseline "
              f"{result['baseline_bits_per_char']:.3f} bits/char")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.kind == "digits":
        from explorer.training import digits
        summary = digits.train_digits_cli(args)
    elif args.kind == "text":
        from explorer.training import text
        summary = text.train_text_cli(args)
    else:
        from explorer.training import text
        summary = text.train_task_cli(args)
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from explorer.commands import bench
    return bench.run(args)


def _cmd_compare(args: argparse.Namespace) -> int:
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from explorer.__main__ import main as open_window
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
