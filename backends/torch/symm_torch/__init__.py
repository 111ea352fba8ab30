"""symm_torch: the torch plugin of symm, with equivariant layers and models.

``symm_torch.nn`` holds the modules (:class:`~symm_torch.nn.eLinear`, :class:`~symm_torch.nn.eConv1D`,
:class:`~symm_torch.nn.Change2DisentangledBasis`, :class:`~symm_torch.nn.IrrepSubspaceNormPooling`,
:class:`~symm_torch.nn.EquivMultivariateNormal`) and ``symm_torch.models`` the models
(:class:`~symm_torch.models.EMLP`, :class:`~symm_torch.models.IMLP`). They accept ``symm.Rep`` types, plain
tensors and, when escnn is installed, escnn ``FieldType`` / ``GeometricTensor``.

The plugin registers under the ``symm.backends`` entry point as ``torch = "symm_torch:plugin"``.
"""

from __future__ import annotations

from symm_torch import models, nn

__version__ = "0.1.0"

plugin: dict = {
    "name": "torch",
    "distribution": "symm-torch",
    "version": __version__,
    "module": "symm_torch",
    "description": "equivariant torch.nn modules and models, ESCNN-compatible",
    "adds": {
        "symm_torch.nn": list(nn.__all__),
        "symm_torch.models": list(models.__all__),
    },
    "optional": {"escnn": "pip install escnn (it needs numpy<2)"},
}

__all__ = ["__version__", "models", "nn", "plugin"]
