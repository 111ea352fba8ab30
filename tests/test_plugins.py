"""Plugin discovery (entry points ``symm.backends``) and the environment report."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import textwrap

import pytest

from symm import _plugins
from symm.app import environment

HEAVY = ("torch", "jax", "cupy", "dask", "escnn")


def test_import_symm_imports_no_heavy_library():
    code = textwrap.dedent(
        f"""
        import sys
        import symm
        import symm._plugins, symm.app.cli, symm.app.environment
        symm._plugins.plugins()
        symm.app.environment.array_backends(probe_devices=False)
        symm.app.environment.escnn_info()
        bad = [m for m in {HEAVY!r} if m in sys.modules]
        print(",".join(bad))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing symm imported {out.stdout.strip()}"


def test_symm_exports_plugins():
    import symm

    assert symm.plugins is _plugins.plugins
    assert isinstance(symm.plugins(), dict)


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """A distribution 'symm-fake' registering plugin 'fake' = symm_fake_plugin:plugin, on sys.path."""
    (tmp_path / "symm_fake_plugin.py").write_text("LOADS = []\nplugin = {'name': 'fake'}\nLOADS.append(1)\n")
    info = tmp_path / "symm_fake-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: symm-fake\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[symm.backends]\nfake = symm_fake_plugin:plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("symm_fake_plugin", None)


def test_plugins_lists_entry_points_lazily(fake_plugin):
    found = _plugins.plugins()
    assert "fake" in found
    info = found["fake"]
    assert info.distribution == "symm-fake"
    assert info.version == "1.2.3"
    assert info.value == "symm_fake_plugin:plugin"
    assert "symm_fake_plugin" not in sys.modules  # listing imports nothing
    assert info.load() == {"name": "fake"}
    assert "symm_fake_plugin" in sys.modules
    assert _plugins.require("fake") == {"name": "fake"}


def test_missing_known_plugin_names_pip(monkeypatch):
    monkeypatch.setitem(
        _plugins.KNOWN_PLUGINS,
        "nothere",
        _plugins.KnownPlugin("nothere", "symm-nothere", "symm_nothere_xyz", "backends/nothere"),
    )
    with pytest.raises(ImportError, match=r"pip install \./backends/nothere") as exc:
        _plugins.require("nothere")
    assert "symm-nothere" in str(exc.value)


def test_missing_torch_plugin_names_pip():
    if "torch" in _plugins.plugins() or importlib.util.find_spec("symm_torch") is not None:
        pytest.skip("symm-torch is installed in this environment")
    with pytest.raises(ImportError, match=r"pip install \./backends/torch"):
        _plugins.require("torch")


def test_unknown_plugin():
    with pytest.raises(ImportError, match="unknown symm plugin"):
        _plugins.require("no-such-plugin-xyz")


def test_array_backends_metadata_only():
    found = environment.array_backends(probe_devices=False)
    assert set(found) == {"numpy", "array_api_strict", "torch", "jax", "cupy", "dask"}
    np_info = found["numpy"]
    assert np_info.installed
    assert np_info.version == importlib.metadata.version("numpy")
    assert np_info.devices is None
    for name, info in found.items():
        assert info.installed == (importlib.util.find_spec(name) is not None)
        if not info.installed:
            assert info.version is None


def test_array_backends_devices():
    found = environment.array_backends(names=["numpy", "array_api_strict"])
    assert found["numpy"].devices == ["cpu"]
    if found["array_api_strict"].installed:
        assert "device1" in found["array_api_strict"].devices
    with pytest.raises(ValueError, match="unknown array backend"):
        environment.array_backends(names=["nope"])


def test_array_backends_probe_installed():
    """Every installed backend's device probe works (or says why it cannot, e.g. cupy without a GPU)."""
    for name, info in environment.array_backends().items():
        if not info.installed:
            continue
        if name == "cupy":
            assert info.devices is not None or "device probe failed" in (info.note or "")
        else:
            assert info.note is None, f"{name}: {info.note}"
            assert info.devices, name


def test_escnn_info():
    info = environment.escnn_info()
    assert info["available"] == (importlib.util.find_spec("escnn") is not None)
    if info["available"]:
        assert info["version"]
