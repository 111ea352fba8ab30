"""The plugin registers under the ``symm.backends`` entry point."""

import symm

import symm_torch


def test_entry_point_registered_and_loads_the_plugin():
    found = symm.plugins()
    assert "torch" in found
    info = found["torch"]
    assert info.value == "symm_torch:plugin"
    assert info.load() is symm_torch.plugin


def test_plugin_describes_itself():
    p = symm_torch.plugin
    assert p["name"] == "torch" and p["version"] == symm_torch.__version__
    assert "eLinear" in p["adds"]["symm_torch.nn"] and "EMLP" in p["adds"]["symm_torch.models"]
