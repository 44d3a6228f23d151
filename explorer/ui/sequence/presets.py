"""Preset texts for the Sequence Lab, and which one suits a model."""

from __future__ import annotations

import numpy as np

PYTHON_FUNCTION = '''def parse_header(line, sep=":"):
    """Split a header line into (name, value); raise ValueError if malformed."""
    if sep not in line:
        raise ValueError("no %r in header line: %r" % (sep, line))
    name, _, value = line.partition(sep)
    # Header names are case-insensitive, values keep their case.
    return name.strip().lower(), value.strip()


def read_headers(lines):
    headers = {}
    for i, line in enumerate(lines):
        if not line.strip():  # a blank line ends the block
            return headers, lines[i + 1:]
        key, value = parse_header(line)
        headers.setdefault(key, []).append(value)
    return headers, []
'''

ENGLISH_PARAGRAPH = (
    "A Python program is constructed from code blocks. A block is a piece of program text "
    "that is executed as a unit. The following are blocks: a module, a function body, and a "
    "class definition. Each command typed interactively is a block. When a name is used in a "
    "code block, it is resolved using the nearest enclosing scope. If the name is not found "
    "at all, a NameError exception is raised, and the program stops unless it handles the "
    "error.\n"
)

BRACKETS = "(()(()))((()))()(((())))(()())((((()))))()(()(()()))"


def _bits(n: int = 96, seed: int = 3) -> str:
    return "".join(np.random.default_rng(seed).choice(list("01"), n))


BIT_STREAM = _bits()
ANBN = "aabbaaabbbabaaaabbbbaabbaaaaabbbbbab"
RECALL = "Cbadfeacbdefab?"
MOTIF = "dbacdbdacabcddbadacbd"

#: name in the preset menu -> (text, the toy tasks / corpora it suits)
PRESETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Python function": (PYTHON_FUNCTION, ("code",)),
    "English paragraph": (ENGLISH_PARAGRAPH, ("prose",)),
    "Bracket string": (BRACKETS, ("depth",)),
    "Bit stream": (BIT_STREAM, ("parity",)),
    "aⁿbⁿ blocks": (ANBN, ("anbn",)),
    "Recall: key … ?": (RECALL, ("recall",)),
    "Motif search": (MOTIF, ("motif",)),
    "Unknown characters": ("naïve café ☕ — \x07bell\ttab 😀 ok\n", ()),
}


def default_preset(task: str | None, name: str) -> str:
    """The preset name that suits a toy task, or code / prose text by the model's name."""
    key = task or ("prose" if "prose" in name.lower() else "code")
    for preset, (_, suits) in PRESETS.items():
        if key in suits:
            return preset
    return "Python function"
