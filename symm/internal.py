"""Semi-public tools for plugins that build on symm (such as ``symm-torch``).

These names are documented and tested, and change only with a note in the changelog, but they are not part of
the user-facing API in ``symm``. Plugins import from ``symm`` and ``symm.internal`` only.
"""

from __future__ import annotations

from typing import Any

from symm._group import Group
from symm._rep import shared_components

__all__ = ["escnn_group", "shared_components"]


def escnn_group(group: Group) -> Any | None:
    """The escnn group that ``group`` was read from (``Group.from_escnn``), or ``None``."""
    if not isinstance(group, Group):
        raise TypeError(f"group must be a symm.Group, got {type(group).__name__}")
    return group._escnn_group
