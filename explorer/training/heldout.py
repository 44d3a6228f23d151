"""Held-out text from *outside* every training source, for measuring only.

The code corpus trains on the standard library and this Python's installed packages; the
prose corpus on the documentation topics and docstrings (and, when asked, the installed
packages' descriptions). What a model must also read well is text from none of those. On a
typical Linux machine that text is already on disk:

- ``code``: Python modules of the *system* Python's packages (``/usr/lib/python3/dist-packages``)
  that this Python does not have installed (apt, yaml, cryptography, dbus, ...);
- ``prose-markdown``: Markdown documents under ``/usr/share/doc`` (README.md, bugs.md, ...):
  short technical English with lists, code spans, quotes and formulas, the nearest thing on
  disk to a forum answer;
- ``prose-readme``: the plain-text READMEs and NEWS files under ``/usr/share/doc``;
- ``prose-descriptions``: the long descriptions in the system packages' metadata
  (``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO``; not of packages whose description the
  prose corpus can read) and in scikit-learn's, whose English is kept out of the prose corpus.

Each set is whole files in a stable order (sorted paths, a stable hash picks which), capped in
characters. Beside them, ``code-<package>``: a sample of each package the code corpus holds out
(``CODE_HELD_OUT``: installed here, never trained on), whole files up to PACKAGE_SAMPLE characters.
``python -m explorer.training.heldout --out DIR`` writes them as text files for ``cnn-rnn-explorer
score-text``; nothing here is read by training or by the app.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from explorer.data.corpora import CODE_HELD_OUT, MAX_FILE_CHARS, stable_fraction

SYSTEM_SITE = "/usr/lib/python3/dist-packages"
DOC_ROOT = "/usr/share/doc"
CAPS = {"code": 150_000, "prose-markdown": 80_000, "prose-readme": 80_000, "prose-descriptions": 80_000}
PER_FILE = 12_000          # at most this much of one file, so one long file cannot dominate a set
PER_SOURCE = 2             # at most this many files of one package / one documentation folder
PACKAGE_SAMPLE = 100_000   # characters of each held-out installed package's sample
_NOT_ITS_OWN = ("__pycache__", "tests", "test", "_vendor", "externals", "examples")  # vendored or test code


def _read(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:  # type: ignore[operator]
            return str(fh.read(MAX_FILE_CHARS))
    except (OSError, EOFError, ValueError):
        return ""


def _walk(root: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", "tests", "test", "_vendor"))
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


def _installed_names() -> set[str]:
    """Top-level names in this Python's own packages folder (their code is trained on)."""
    site = sysconfig.get_paths()["purelib"]
    return {p.split(".")[0].split("-")[0].lower() for p in os.listdir(site)} if os.path.isdir(site) else set()


def code_files() -> list[str]:
    if not os.path.isdir(SYSTEM_SITE):
        return []
    mine = _installed_names()
    return [p for p in _walk(SYSTEM_SITE) if p.endswith(".py")
            and os.path.relpath(p, SYSTEM_SITE).split(os.sep)[0].removesuffix(".py").lower() not in mine]


def markdown_files() -> list[str]:
    return [p for p in _walk(DOC_ROOT) if p.lower().removesuffix(".gz").endswith((".md", ".markdown"))]


def readme_files() -> list[str]:
    out = []
    for p in _walk(DOC_ROOT):
        name = os.path.basename(p).lower().removesuffix(".gz")
        if name.startswith(("readme", "news")) and not name.endswith((".md", ".markdown", ".html")):
            out.append(p)
    return out


def _description(path: str) -> str:
    """The body (after the header's blank line) of a METADATA / PKG-INFO file."""
    text = _read(path)
    head, sep, body = text.partition("\n\n")
    return body if sep else ""


def _dist_name(path: str) -> str:
    """".../PyYAML-6.0.dist-info/METADATA" -> "pyyaml" (lower case, - and . as _)."""
    folder = os.path.basename(os.path.dirname(path))
    return folder.split("-")[0].removesuffix(".egg").removesuffix(".dist").lower().replace(".", "_")


def description_files() -> list[str]:
    """The system packages' descriptions, except those of distributions whose description the
    prose corpus reads (another version of the same package says nearly the same)."""
    from explorer.data.corpora import package_descriptions

    trained = {k.split("/", 1)[1].lower().replace("-", "_").replace(".", "_") for k in package_descriptions()}
    out = [p for p in _walk(SYSTEM_SITE) if os.path.basename(p) in ("METADATA", "PKG-INFO")
           and _dist_name(p) not in trained] if os.path.isdir(SYSTEM_SITE) else []
    site = sysconfig.get_paths()["purelib"]
    out += [str(p) for p in sorted(Path(site).glob("scikit_learn-*.dist-info/METADATA"))]
    return out


def _source_of(path: str) -> str:
    """The package (or documentation folder) a file belongs to."""
    for root in (SYSTEM_SITE, DOC_ROOT):
        if path.startswith(root + os.sep):
            return os.path.relpath(path, root).split(os.sep)[0].split("-")[0].removesuffix(".py").lower()
    return os.path.dirname(path)


SETS = {"code": (code_files, _read), "prose-markdown": (markdown_files, _read),
        "prose-readme": (readme_files, _read), "prose-descriptions": (description_files, _description)}


def build(name: str, cap: int | None = None) -> tuple[str, list[str]]:
    """-> (text, files) of one held-out set: whole files (each cut at PER_FILE), hash order."""
    find, read = SETS[name]
    cap = cap or CAPS[name]
    seen: set[str] = set()
    per_source: dict[str, int] = {}
    texts, used, total = [], [], 0
    for path in sorted(find(), key=lambda p: (stable_fraction(p), p)):
        source = _source_of(path)
        if per_source.get(source, 0) >= PER_SOURCE:
            continue
        text = read(path).replace("\r\n", "\n").strip()
        if len(text) < 200 or text in seen or "\x00" in text:
            continue
        seen.add(text)
        per_source[source] = per_source.get(source, 0) + 1
        text = text[:PER_FILE].rsplit("\n", 1)[0] if len(text) > PER_FILE else text
        texts.append(text + "\n")
        used.append(path)
        total += len(texts[-1]) + 1
        if total >= cap:
            break
    return "\n".join(texts), used


def package_sample(package: str, cap: int = PACKAGE_SAMPLE) -> tuple[str, list[str]]:
    """-> (text, files): whole ``.py`` files of an installed package in stable-hash order of
    their paths, until ``cap`` characters are reached (empty if the package is not installed)."""
    site = sysconfig.get_paths()["purelib"]
    files = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(site, package)):
        dirnames[:] = sorted(d for d in dirnames if d not in _NOT_ITS_OWN)
        files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py")]
    files.sort(key=lambda p: (stable_fraction(os.path.relpath(p, site)), p))
    texts, used, total = [], [], 0
    for path in files:
        text = _read(path)
        if len(text) < 200:
            continue
        texts.append(text)
        used.append(path)
        total += len(text)
        if total >= cap:
            break
    return "".join(texts), used


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.training.heldout",
                                description="write the held-out sets (text from outside every training source)")
    p.add_argument("--out", required=True, help="folder to write <set>.txt and files.json into")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    listing = {}
    sets = {name: (lambda name=name: build(name)) for name in SETS}
    sets.update({f"code-{pkg}": (lambda pkg=pkg: package_sample(pkg)) for pkg in CODE_HELD_OUT})
    for name, make in sets.items():
        text, files = make()
        if text:
            (out / f"{name}.txt").write_text(text, encoding="utf-8")
        listing[name] = {"n_chars": len(text), "files": files}
        print(f"{name}: {len(files)} files, {len(text):,} characters", file=sys.stderr)
    (out / "files.json").write_text(json.dumps(listing, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
