"""Session ("lesson") files: the whole view of the explorer in one ``.cre`` file. No Qt.

A ``.cre`` file is a zip archive holding only data, never code (no pickle anywhere):

- ``session.json`` — ``{"format": "cnn-rnn-explorer/session", "version": 1, "state": {...},
  "models": {"digit": "models/digit.npz", ...}}``: each lab's settings and selections.
- ``models/<name>.npz`` — every model in use, as a model file (``explorer.engine.save_model``
  format), so the lesson is complete on another machine.
- ``drawing.npz`` — the Digit Lab's drawing (``DigitSession.save`` format), optional.
- ``arrays.npz`` — optional extra numbers (training curves, ...), plain numeric arrays.

``write_lesson(path, lesson)`` writes atomically (``explorer.atomic``). ``read_lesson(path)``
checks everything before returning (size limits, member names, zip CRCs, JSON format and
version, types of every known field, that every embedded model loads) and raises
``LessonFileError`` with one sentence otherwise. Older versions are brought up to date by
``MIGRATIONS``; a file from a newer version is refused with a message saying so.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from explorer.atomic import atomic_write
from explorer.engine import Model
from explorer.errors import ExplorerError

FORMAT = "cnn-rnn-explorer/session"
VERSION = 1
SUFFIX = ".cre"
MAX_FILE = 256 * 2**20          # bytes on disk
MAX_TOTAL = 512 * 2**20         # bytes once uncompressed, all members together (zip bombs)
MAX_JSON = 4 * 2**20
MAX_MEMBERS = 32
MEMBER = re.compile(r"^(session\.json|drawing\.npz|arrays\.npz|models/[a-z][a-z0-9_]{0,31}\.npz)$")

# The fields read back, with their types; anything else in "state" is kept but ignored.
SCHEMA: dict[str, dict[str, tuple[type, ...]]] = {
    "window": {"tab": (int,)},
    "digits": {"scope": (str,), "pen_width": (int, float), "saliency": (bool,), "winners": (bool,),
               "selection": (dict, type(None)), "pen_model": (str,), "pen_target": (int, type(None)),
               "pen_page": (bool,)},
    "sequence": {"model_label": (str,), "text": (str,), "cursor": (int,), "unit": (int, type(None)),
                 "unit_state": (str,), "colour": (str,)},
    "compare": {"tab": (int,), "task": (str,), "distance": (int,), "steps": (int,), "seed": (int,)},
    "train": {"kind": (str,), "preset": (str,), "data": (str,), "optimizer": (str,), "lr": (int, float),
              "batch_size": (int,), "epochs": (int,), "steps_per_epoch": (int,), "seed": (int,), "clip": (int, float)},
}


class LessonFileError(ExplorerError, ValueError):
    """A file that is not a usable session file; str(exc) names the file and what is wrong."""


@dataclass
class Lesson:
    """What a session file holds. ``models``: name -> model-file bytes; ``drawing``: bytes of a
    ``DigitSession.save`` file or None; ``arrays``: name -> numeric array."""

    state: dict[str, Any] = field(default_factory=dict)
    models: dict[str, bytes] = field(default_factory=dict)
    drawing: bytes | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    version: int = VERSION

    def section(self, name: str) -> dict[str, Any]:
        """One lab's part of the state ({} when absent)."""
        value = self.state.get(name)
        return value if isinstance(value, dict) else {}


def _migrate_0(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (drafts) kept the tab at the top level; version 1 has it under "window"."""
    state = doc.setdefault("state", {})
    if "tab" in doc:
        state.setdefault("window", {})["tab"] = doc.pop("tab")
    doc["version"] = 1
    return doc


MIGRATIONS = {0: _migrate_0}    # version -> function bringing a document to version + 1


# -- models <-> bytes ----------------------------------------------------------------------
def model_bytes(model: Model) -> bytes:
    """A Model as the bytes of its model file (written by ``save_model``, the one format)."""
    from explorer.engine import save_model
    with tempfile.TemporaryDirectory(prefix="cre-") as tmp:
        path = Path(tmp) / "model.npz"
        save_model(model, path)
        return path.read_bytes()


def model_from_bytes(data: bytes, what: str = "model") -> Any:
    """Model-file bytes -> Model through ``load_model`` (all its checks); LessonFileError."""
    from explorer.engine import ModelFileError, load_model
    with tempfile.TemporaryDirectory(prefix="cre-") as tmp:
        path = Path(tmp) / "model.npz"
        path.write_bytes(data)
        try:
            return load_model(path)
        except ModelFileError as exc:
            why = str(exc).replace(f"{path}: ", "")
            raise LessonFileError(f"the embedded {what} is not a valid model: {why}") from None


# -- writing -------------------------------------------------------------------------------
def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **cast("dict[str, Any]", {k: np.asarray(v) for k, v in arrays.items()}))
    return buf.getvalue()


def write_lesson(path: str | os.PathLike[str], lesson: Lesson) -> Path:
    """Write ``lesson`` to ``path`` atomically; returns the path written."""
    for name in lesson.models:
        if not MEMBER.match(f"models/{name}.npz"):
            raise LessonFileError(f"bad model name {name!r} (lower-case letters, digits, _)")
    for key, value in lesson.arrays.items():
        if np.asarray(value).dtype.kind not in "biuf":
            raise LessonFileError(f"array {key!r} is not numeric")
    doc = {"format": FORMAT, "version": VERSION, "state": lesson.state,
           "models": {name: f"models/{name}.npz" for name in lesson.models}}
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1)

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("session.json", text)
            for name, data in lesson.models.items():
                zf.writestr(f"models/{name}.npz", data, compress_type=zipfile.ZIP_STORED)
            if lesson.drawing is not None:
                zf.writestr("drawing.npz", lesson.drawing, compress_type=zipfile.ZIP_STORED)
            if lesson.arrays:
                zf.writestr("arrays.npz", _npz_bytes(lesson.arrays), compress_type=zipfile.ZIP_STORED)

    return atomic_write(path, write)


# -- reading -------------------------------------------------------------------------------
def _open_zip(path: Path, fail: Any) -> zipfile.ZipFile:
    if not path.exists():
        raise fail("no such file")
    if path.is_dir():
        raise fail("is a folder, not a session file")
    size = path.stat().st_size
    if size > MAX_FILE:
        raise fail(f"is {size / 2**20:.0f} MB, more than a session file may be ({MAX_FILE // 2**20} MB)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    if head != b"PK\x03\x04":
        raise fail("is not a CNN & RNN Explorer session file (expected a .cre file saved by the app)")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise fail("is damaged or truncated (its zip directory cannot be read)") from None


def _members(zf: zipfile.ZipFile, fail: Any) -> dict[str, bytes]:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if "session.json" not in names:
        if any(n.endswith(".npy") for n in names) and "arch.npy" in names:
            raise fail("is a model file, not a session file (use File → Open model…)")
        raise fail("is a zip archive but not a session file (it has no session.json)")
    if len(infos) > MAX_MEMBERS or len(set(names)) != len(names):
        raise fail("has too many or repeated entries to be a session file")
    bad = [n for n in names if not MEMBER.match(n)]
    if bad:
        raise fail(f"has an unexpected entry {bad[0]!r} (session files hold only JSON and .npz data)")
    if sum(i.file_size for i in infos) > MAX_TOTAL:
        raise fail("would unpack to more than a session file may hold")
    out: dict[str, bytes] = {}
    budget = MAX_TOTAL
    for info in infos:
        limit = MAX_JSON if info.filename == "session.json" else budget
        try:
            with zf.open(info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
            raise fail(f"is damaged or truncated (entry {info.filename!r} cannot be read)") from None
        except Exception as exc:   # zlib.error and friends: a corrupt compressed stream
            raise fail(f"is damaged (entry {info.filename!r}: {type(exc).__name__})") from None
        if len(data) > limit:
            raise fail(f"entry {info.filename!r} is too large")
        budget -= len(data)
        out[info.filename] = data
    return out


def _parse_doc(raw: bytes, fail: Any) -> dict[str, Any]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"session.json is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise fail("session.json is not a CNN & RNN Explorer session")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise fail("session.json has no valid version number")
    if version > VERSION:
        raise fail(f"was saved by a newer version of the app (session version {version}; "
                   f"this one reads up to {VERSION}) — update the app to open it")
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["version"]
    _check_schema(doc, fail)
    return cast("dict[str, Any]", doc)


def _check_schema(doc: dict[str, Any], fail: Any) -> None:
    state, models = doc.get("state", {}), doc.get("models", {})
    if not isinstance(state, dict) or not isinstance(models, dict):
        raise fail("session.json: 'state' and 'models' must be objects")
    for section, fields in SCHEMA.items():
        part = state.get(section, {})
        if not isinstance(part, dict):
            raise fail(f"session.json: '{section}' must be an object")
        for key, types in fields.items():
            if key in part:
                value = part[key]
                ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
                if not ok:
                    raise fail(f"session.json: '{section}.{key}' has the wrong type ({type(value).__name__})")
    for name, member in models.items():
        if not isinstance(member, str) or member != f"models/{name}.npz":
            raise fail(f"session.json: model {name!r} points to {member!r}")


def _read_arrays(raw: bytes, fail: Any) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        why = "holds pickled objects, which are refused" if "pickle" in str(exc) else "is damaged"
        raise fail(f"arrays.npz {why}") from None
    except Exception:
        raise fail("arrays.npz is damaged or truncated") from None
    for k, v in arrays.items():
        if v.dtype.kind not in "biuf":
            raise fail(f"arrays.npz: {k!r} is not numeric")
    return arrays


def read_lesson(path: str | os.PathLike[str], *, check_models: bool = True) -> Lesson:
    """Read and fully check a session file; LessonFileError("<file>: ...") if anything is off.

    With ``check_models`` every embedded model is loaded once (so a lesson that opens is a
    lesson whose models work)."""
    path = Path(path)

    def fail(why: str) -> LessonFileError:
        return LessonFileError(f"{path}: {why}")

    with _open_zip(path, fail) as zf:
        members = _members(zf, fail)
    doc = _parse_doc(members.pop("session.json"), fail)
    models: dict[str, bytes] = {}
    for name, member in doc.get("models", {}).items():
        if member not in members:
            raise fail(f"the model {name!r} it names is missing")
        models[name] = members.pop(member)
        if check_models:
            try:
                model_from_bytes(models[name], f"{name} model")
            except LessonFileError as exc:
                raise fail(str(exc)) from None
    stray = [m for m in members if m.startswith("models/")]
    if stray:
        raise fail(f"has a model {stray[0]!r} that session.json does not name")
    arrays = _read_arrays(members["arrays.npz"], fail) if "arrays.npz" in members else {}
    return Lesson(state=doc.get("state", {}), models=models, drawing=members.get("drawing.npz"),
                  arrays=arrays, version=doc["version"])
