"""Timing helpers shared by the benchmarks: interleaved repeats, medians, a plain-text table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


def interleaved_medians(
    fns: Sequence[Callable[[], object]],
    repeats: int,
    sync: Callable[[object], object] = lambda r: r,
    warmup: int = 2,
    inner: int = 1,
    stat: str = "min",
) -> list[float]:
    """Wall time (seconds per call) of each function, measured round-robin so that machine noise hits
    every contender alike; ``stat`` is ``"min"`` (default: the least disturbed run, robust on a shared
    machine) or ``"median"``. ``sync`` forces the result (e.g. ``.compute()`` or a device sync)."""
    for fn in fns:
        for _ in range(warmup):
            sync(fn())
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(inner):
                sync(fn())
            times[k].append((time.perf_counter() - t0) / inner)
    reduce = min if stat == "min" else statistics.median
    return [reduce(t) for t in times]


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def verdict(value: float, limit: float) -> str:
    """``"PASS"`` if ``value <= limit`` else ``"FAIL"`` (the last column of every benchmark table)."""
    return "PASS" if value <= limit else "FAIL"


class RowPrinter:
    """A plain-text table printed row by row as results arrive: each row once, on stdout.

    Long benchmarks show progress this way without printing the table a second time at the end. Columns are
    left-aligned to ``max(len(header), width)``; a longer cell widens its own row only. :meth:`close` prints
    ``results: <n> PASS, <m> FAIL`` for the rows whose last column is a verdict (``symm bench`` reads it).
    """

    def __init__(self, header: Sequence[str], widths: Sequence[int]) -> None:
        self.widths = [max(len(h), w) for h, w in zip(header, widths, strict=True)]
        self.rows: list[list[str]] = []
        self._print(list(header))
        print("-+-".join("-" * w for w in self.widths), flush=True)

    def _print(self, cells: list[str]) -> None:
        line = " | ".join(str(c).ljust(w) for c, w in zip(cells, self.widths, strict=True))
        print(line.rstrip(), flush=True)

    def row(self, cells: Sequence[str]) -> list[str]:
        cells = [str(c) for c in cells]
        self.rows.append(cells)
        self._print(cells)
        return cells

    def close(self) -> None:
        verdicts = [r[-1] for r in self.rows]
        n_pass, n_fail = verdicts.count("PASS"), verdicts.count("FAIL")
        if n_pass or n_fail:
            print(f"results: {n_pass} PASS, {n_fail} FAIL", flush=True)
