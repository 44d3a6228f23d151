"""One base class for every mistake a user can make and fix.

The command line prints ``str(exc)`` of any ``ExplorerError`` as one line and exits 2; the
window shows it in a message box or the status bar. Nothing here imports Qt or numpy, so
every layer (engine included) may raise these.
"""

from __future__ import annotations


class ExplorerError(Exception):
    """A user mistake (bad file, bad argument, unusable input): one readable sentence."""


class UserError(ExplorerError, ValueError):
    """A bad command-line argument or setting."""
