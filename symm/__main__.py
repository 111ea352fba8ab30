"""``python -m symm`` and the ``symm`` console script; the commands are in :mod:`symm.app.cli`."""

from __future__ import annotations

import sys

from symm.app.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
