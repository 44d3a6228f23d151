"""The one atomic writer: every file the app or the command line saves goes through here.

A temporary file in the destination's own folder is written, flushed and fsync'ed, given
the usual permissions, then renamed over the destination (``os.replace`` is atomic on one
file system). On any error the temporary file is removed and the destination is untouched.
The folder is fsync'ed after the rename where the platform allows, so a power cut keeps
either the old or the new file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(fh)`` on a temporary binary file beside ``path``, then rename it into place.

    Raises ``OSError`` (missing or read-only folder, disk full, ...) with the temporary file
    already removed; ``path`` then still holds what it held before.
    """
    def by_name(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    return atomic_write_via_name(path, by_name)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """``data`` to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_via_name(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """For writers that want a file *name* (Qt's ``QImage.save``, exporters): ``write(tmp)``
    must create the file at ``tmp``; it is then fsync'ed and renamed into place."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(2, "the folder does not exist", str(folder))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=folder)
    except OSError as exc:              # name the user's file, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename == tmp:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise
    _fsync_dir(folder)
    return path
