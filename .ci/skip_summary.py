"""A pytest plugin for ``nox``: one summary of why tests were skipped, each distinct reason once with a count.

The sessions run pytest with ``-rfE`` (only failures and errors listed one by one); a session runs one array
backend, so most of the suite's skips are the other backends' parametrisations, and listing each of them buries
the failures. ``noxfile.py`` loads this plugin with ``-p skip_summary`` and ``.ci`` on ``PYTHONPATH``.
"""

from __future__ import annotations

from collections import Counter


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        counts[reason.removeprefix("Skipped: ")] += 1
    if not counts:
        return
    terminalreporter.write_sep("-", f"{sum(counts.values())} skipped, by reason")
    for reason, n in counts.most_common():
        terminalreporter.write_line(f"{n:6d}  {reason}")
