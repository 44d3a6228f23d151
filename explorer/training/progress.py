"""A tqdm-style progress line on stderr: step/total, metrics, rate and ETA. No dependency."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """``bar = ProgressBar(total, "train"); bar.update(loss=0.3); bar.close()``.

    Redraws at most ten times a second; on a non-terminal stream it prints a plain line
    every ``every`` percent so logs stay readable.
    """

    def __init__(self, total: int, desc: str = "", stream: TextIO | None = None,
                 width: int = 24, enabled: bool = True) -> None:
        self.total = max(1, int(total))
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.n = 0
        self.metrics: dict[str, float] = {}
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_pct = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, n: int = 1, /, **metrics: float) -> None:
        self.n = min(self.total, self.n + n)
        self.metrics.update({k: float(v) for k, v in metrics.items()})
        now = time.perf_counter()
        pct = int(100 * self.n / self.total)
        if self._tty and (now - self._last_draw > 0.1 or self.n == self.total):
            self._draw("\r")
            self._last_draw = now
        elif not self._tty and pct // 10 != self._last_pct // 10:
            self._draw("")
            self._last_pct = pct

    def line(self) -> str:
        elapsed = time.perf_counter() - self._start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.n) / rate if rate > 0 else 0.0
        filled = int(self.width * self.n / self.total)
        bar = "█" * filled + "·" * (self.width - filled)
        mets = " ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return (f"{self.desc} {100 * self.n / self.total:3.0f}% |{bar}| {self.n}/{self.total} "
                f"[{format_seconds(elapsed)}<{format_seconds(eta)}, {rate:.1f} it/s] {mets}").strip()

    def _draw(self, prefix: str) -> None:
        if not self.enabled:
            return
        end = "" if self._tty else "\n"
        self.stream.write(prefix + self.line() + end)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._tty:
            self._draw("\r")
            self.stream.write("\n")
            self.stream.flush()
