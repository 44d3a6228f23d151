"""Listeners: how a session tells the lab that its model changed.

A session owns one ``Listeners`` and calls ``tell(what)`` after a change; whoever shows the
session ``add``s a callback and ``remove``s it when it lets the session go. Callbacks run
in the order they were added, on a copy of the list (a callback may remove itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Listeners(Generic[T]):
    """Callbacks ``callback(what)`` told of a session's changes."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], None]] = []

    def add(self, callback: Callable[[T], None]) -> None:
        self._callbacks.append(callback)

    def remove(self, callback: Callable[[T], None]) -> None:
        """Stop telling ``callback`` (nothing happens if it was not listening)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def __contains__(self, callback: object) -> bool:
        return callback in self._callbacks

    def tell(self, what: T) -> None:
        for callback in list(self._callbacks):
            callback(what)
