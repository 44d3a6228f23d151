"""One schema for every value the app keeps: session files, autosaved settings, ``open``. No Qt.

A session file's ``state`` is checked here field by field (type, range, finiteness, string
length) before anything in the window changes; the same declarations check the values
QSettings hands back at start (``Field.accepts_setting``) and what is about to be saved
(``check_state`` in ``write_lesson``), so the app never writes what it would refuse to
read. JSON is parsed by ``loads``: a depth limit (a file nested 200,000 deep is refused
with a sentence, not a RecursionError), and NaN / Infinity / 1e999 refused as they are read.

Adding a field is one declared entry in ``SESSION``, e.g.
``"digits": Section(..., pen_model=Str(64))``. Fields not declared are kept but never read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from explorer.errors import ExplorerError

MAX_DEPTH = 32                  # JSON nesting: the deepest real session is 4 levels
MAX_TEXT_CHARS = 4_000_000      # the Sequence Lab text in a session (and autosave): see README
MAX_NAME = 256                  # labels, presets, model names
INT32 = 2**31 - 1


class SchemaError(ExplorerError, ValueError):
    """A value the schema refuses; str(exc) names the field ('digits.pen_width ...')."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"{value:.6g}" if isinstance(value, float) else "a whole number"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


@dataclass(frozen=True)
class Field:
    """Base of every declared field: ``check(value, name) -> value`` or SchemaError."""

    nullable: bool = dc_field(default=False, kw_only=True)

    def check(self, value: Any, name: str) -> Any:
        if value is None and self.nullable:
            return None
        return self._check(value, name)

    def _check(self, value: Any, name: str) -> Any:
        raise NotImplementedError

    def accepts_setting(self, value: Any) -> bool:
        """A value as QSettings returns it (INI files give back strings)."""
        try:
            self.check(self._from_setting(value), "setting")
        except (SchemaError, ValueError, OverflowError):
            return False
        return True

    def _from_setting(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class Int(Field):
    lo: int = 0
    hi: int = INT32

    def _check(self, value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(f"'{name}' must be a whole number, not {_kind(value)}")
        if not self.lo <= value <= self.hi:
            shown = str(value) if abs(value) < 10**15 else f"a {len(str(abs(value)))}-digit number"
            raise SchemaError(f"'{name}' is {shown}, outside {self.lo}…{self.hi:,}")
        return value

    def _from_setting(self, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
            return int(value)
        return value


@dataclass(frozen=True)
class Float(Field):
    lo: float = -math.inf
    hi: float = math.inf

    def _check(self, value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(f"'{name}' must be a number, not {_kind(value)}")
        f = float(value)
        if not math.isfinite(f):
            raise SchemaError(f"'{name}' is {f}, not a finite number")
        if not self.lo <= f <= self.hi:
            raise SchemaError(f"'{name}' is {f:g}, outside {self.lo:g}…{self.hi:g}")
        return f

    def _from_setting(self, value: Any) -> Any:
        if isinstance(value, str):
            return float(value)            # ValueError: refused
        return value


@dataclass(frozen=True)
class Bool(Field):
    def _check(self, value: Any, name: str) -> bool:
        if not isinstance(value, bool):
            raise SchemaError(f"'{name}' must be true or false, not {_kind(value)}")
        return value

    def _from_setting(self, value: Any) -> Any:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        return value


@dataclass(frozen=True)
class Str(Field):
    max_len: int = MAX_NAME
    choices: tuple[str, ...] = ()

    def _check(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise SchemaError(f"'{name}' must be text, not {_kind(value)}")
        if len(value) > self.max_len:
            raise SchemaError(f"'{name}' is {len(value):,} characters long; at most {self.max_len:,} are kept")
        if self.choices and value not in self.choices:
            raise SchemaError(f"'{name}' is {value[:40]!r}, not one of {', '.join(self.choices)}")
        return value


class Section(Field):
    """An object whose declared keys are checked; undeclared keys are kept, unread."""

    fields: tuple[tuple[str, Field], ...]

    def __init__(self, nullable: bool = False, **fields: Field) -> None:
        object.__setattr__(self, "nullable", nullable)
        object.__setattr__(self, "fields", tuple(fields.items()))

    def _check(self, value: Any, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SchemaError(f"'{name}' must be an object, not {_kind(value)}")
        out = dict(value)
        for key, f in self.fields:
            if key in value:
                out[key] = f.check(value[key], f"{name}.{key}" if name else key)
        return out

    def declared(self) -> dict[str, Field]:
        return dict(self.fields)


def _train_kinds() -> tuple[str, ...]:
    from explorer.session.train import KINDS
    return tuple(KINDS)


# Every field a session file's "state" may hold. The ranges are the app's own controls'.
SESSION = Section(
    window=Section(tab=Int(0, 99)),
    digits=Section(scope=Str(32), pen_width=Float(1.0, 400.0), saliency=Bool(), winners=Bool(),
                   selection=Section(nullable=True, layer=Int(0, 1023), channel=Int(0, 65535),
                                     row=Int(0, 65535), col=Int(0, 65535)),
                   pen_model=Str(MAX_NAME), pen_target=Int(0, 9, nullable=True), pen_page=Bool()),
    sequence=Section(model_label=Str(MAX_NAME), text=Str(MAX_TEXT_CHARS), cursor=Int(0, MAX_TEXT_CHARS),
                     unit=Int(0, 65535, nullable=True), unit_state=Str(1, ("h", "c")), colour=Str(64)),
    compare=Section(tab=Int(0, 99), task=Str(64), distance=Int(1, 60), steps=Int(20, 5000), seed=Int(0, INT32)),
    train=Section(kind=Str(32, _train_kinds()), preset=Str(MAX_NAME), data=Str(MAX_NAME),
                  optimizer=Str(8, ("Adam", "SGD")), lr=Float(1e-5, 1e4), batch_size=Int(1, 1024),
                  epochs=Int(1, 500), steps_per_epoch=Int(1, 100_000), seed=Int(0, INT32),
                  clip=Float(0.0, 1000.0)),
)


def check_state(state: Any) -> dict[str, Any]:
    """A session's ``state`` -> the same, every declared field checked; SchemaError naming
    the first bad field (and how many more there are). Nothing is changed by checking."""
    if not isinstance(state, dict):
        raise SchemaError(f"'state' must be an object, not {_kind(state)}")
    problems: list[str] = []
    out = dict(state)
    for key, section in SESSION.fields:
        if key not in state:
            continue
        try:
            out[key] = section.check(state[key], key)
        except SchemaError as exc:
            problems.append(str(exc))
    if problems:
        more = f" (and {len(problems) - 1} more bad field{'s' * (len(problems) > 2)})" if len(problems) > 1 else ""
        raise SchemaError(problems[0] + more)
    return out


def field(path: str) -> Field:
    """The declared field at 'section.key' (KeyError if none)."""
    node: Field = SESSION
    for part in path.split("."):
        if not isinstance(node, Section):
            raise KeyError(path)
        node = node.declared()[part]
    return node


# -- JSON: depth limit first, no non-finite numbers -----------------------------------------
def inspect_json(value: Any) -> tuple[int, str | None]:
    """(how deeply lists and objects nest, the dotted path of the first number that is not
    finite or None); iterative, so any depth is safe."""
    deepest, bad, stack = 0, None, [(value, 1, "")]
    while stack:
        v, d, path = stack.pop()
        if isinstance(v, float) and not math.isfinite(v) and bad is None:
            bad = f"'{path or 'value'}' is {v}"
        elif isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            items = v.items() if isinstance(v, dict) else enumerate(v)
            stack.extend((c, d + 1, f"{path}.{k}" if path else str(k)) for k, c in items)
    return deepest, bad


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON: nested at most ``max_depth`` deep and every number finite (NaN, Infinity
    and 1e999 are refused, naming where they are); SchemaError, or ValueError for JSON that
    is not well formed."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    too_deep = f"is nested more than {max_depth} levels deep (arrays or objects inside each other)"
    try:
        value = json.loads(text)
    except RecursionError:              # json's own guard, near 1,000 levels: long before a crash
        raise SchemaError(too_deep) from None
    depth, bad = inspect_json(value)
    if depth > max_depth:
        raise SchemaError(too_deep)
    if bad is not None:
        raise SchemaError(f"holds a number that is not finite: {bad}, not a finite number")
    return value


def dumps(value: Any, **kw: Any) -> str:
    """JSON text, refusing NaN and infinities (SchemaError) instead of writing them."""
    try:
        return json.dumps(value, allow_nan=False, **kw)
    except ValueError as exc:
        raise SchemaError(f"cannot be saved: a value is not a finite number ({exc})") from None
