"""Plugin discovery.

Plugins register under the entry-point group ``symm.backends``, e.g. in the plugin's ``pyproject.toml``::

    [project.entry-points."symm.backends"]
    torch = "symm_torch:plugin"

:func:`plugins` lists the installed plugins without importing them. :func:`require` loads one, and for a
known plugin that is not installed raises an :class:`ImportError` that names the pip command.
"""

from __future__ import annotations

import importlib
import importlib.metadata as _md
import importlib.util
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENTRY_POINT_GROUP",
    "KNOWN_PLUGINS",
    "KnownPlugin",
    "PluginInfo",
    "plugins",
    "require",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "symm.backends"


@dataclass(frozen=True)
class KnownPlugin:
    """A plugin symm knows how to point users to."""

    name: str
    distribution: str
    module: str
    source_dir: str

    def install_hint(self) -> str:
        return (
            f"from a symm checkout, `pip install ./{self.source_dir}` with the dependency versions of your choice "
            f"(the distribution {self.distribution!r} is not on PyPI yet)"
        )


KNOWN_PLUGINS: dict[str, KnownPlugin] = {
    "torch": KnownPlugin("torch", "symm-torch", "symm_torch", "backends/torch"),
}


@dataclass
class PluginInfo:
    """An installed plugin: the entry point's name, its distribution and version; the plugin object itself
    is loaded on first access of :meth:`load`."""

    name: str
    value: str
    distribution: str | None
    version: str | None
    _entry_point: Any = field(default=None, repr=False, compare=False)
    _loaded: Any = field(default=None, repr=False, compare=False)
    _is_loaded: bool = field(default=False, repr=False, compare=False)

    def load(self) -> Any:
        """Import the plugin and return the object its entry point names (cached)."""
        if not self._is_loaded:
            self._loaded = self._entry_point.load()
            self._is_loaded = True
        return self._loaded

    @property
    def loaded(self) -> Any:
        """Deprecated: call :meth:`load`."""
        warnings.warn("PluginInfo.loaded is deprecated; call PluginInfo.load()", DeprecationWarning, stacklevel=2)
        return self.load()


def _entry_points() -> list[Any]:
    return list(_md.entry_points(group=ENTRY_POINT_GROUP))


def plugins() -> dict[str, PluginInfo]:
    """The installed symm plugins, by entry-point name. Nothing is imported."""
    found: dict[str, PluginInfo] = {}
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        dist_name = getattr(dist, "name", None) if dist is not None else None
        version = getattr(dist, "version", None) if dist is not None else None
        if ep.name in found:
            logger.warning(
                "symm plugin %r is registered twice (%s and %s); using the first",
                ep.name,
                found[ep.name].value,
                ep.value,
            )
            continue
        found[ep.name] = PluginInfo(ep.name, ep.value, dist_name, version, _entry_point=ep)
    return dict(sorted(found.items()))


def require(name: str) -> Any:
    """Load the plugin ``name`` and return its plugin object.

    Raises
    ------
    ImportError
        If the plugin is not installed; for a known plugin (e.g. ``"torch"``) the message names the pip
        command that installs it.
    """
    installed = plugins()
    if name in installed:
        return installed[name].load()
    known = KNOWN_PLUGINS.get(name)
    if known is not None:
        # Installed without metadata (e.g. on sys.path from a checkout): import it directly.
        if importlib.util.find_spec(known.module) is not None:
            module = importlib.import_module(known.module)
            return getattr(module, "plugin", module)
        raise ImportError(
            f"the symm {name!r} plugin is not installed; install it with {known.install_hint()}",
            name=known.module,
        )
    options = sorted(set(installed) | set(KNOWN_PLUGINS))
    raise ImportError(f"unknown symm plugin {name!r}; known plugins: {', '.join(options) or 'none'}")


# --------------------------------------------------------------------------------------------- backends
