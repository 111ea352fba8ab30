"""A tiny progress bar on stderr, drawn only when stderr is a terminal.

No dependency: the bar is a single line rewritten with ``\\r``. When the stream is not a TTY (a pipe, a file,
CI logs) or ``SYMM_NO_PROGRESS`` is set, nothing at all is written, so redirected output stays clean.

Examples
--------
>>> from symm.app.progress import Progress
>>> with Progress(3, "work") as bar:  # silent here: doctest output is not a terminal
...     for _ in range(3):
...         bar.advance()
>>> bar.done
3
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """A context manager that counts steps and redraws ``desc [####....] k/n  t s`` on a terminal.

    Parameters
    ----------
    total : int
        Number of steps expected.
    desc : str
        Short label shown before the bar.
    stream : file-like, optional
        Where to draw (default ``sys.stderr`` at the time of the call).
    enabled : bool, optional
        Force the bar on or off. By default it is on only if ``stream.isatty()`` and the environment variable
        ``SYMM_NO_PROGRESS`` is unset or empty.
    width : int
        Number of characters in the bar itself.
    min_interval : float
        Minimum seconds between two redraws (the last step always redraws).
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 28,
        min_interval: float = 0.05,
    ) -> None:
        self.total = max(int(total), 0)
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty is not None and isatty()) and not os.environ.get("SYMM_NO_PROGRESS")
        self.enabled = enabled
        self.width = width
        self.min_interval = min_interval
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = -float("inf")
        self._drawn = False

    def __enter__(self) -> Progress:
        self._start = time.perf_counter()
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, steps: int = 1, desc: str | None = None) -> None:
        """Count ``steps`` more steps done (optionally changing the label) and redraw if due."""
        self.done = min(self.done + steps, self.total) if self.total else self.done + steps
        if desc is not None:
            self.desc = desc
        self._draw(force=self.done >= self.total)

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        frac = self.done / self.total if self.total else 0.0
        filled = round(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.desc} [{bar}] {self.done}/{self.total}  {now - self._start:.1f}s"
        self.stream.write("\r" + line + "\033[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar so that the next output starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
