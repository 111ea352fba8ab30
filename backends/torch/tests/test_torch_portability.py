"""A saved module computes the same function in another process, under another BLAS kernel (DESIGN §9).

One process builds each module (eLinear of R-, C- and H-type reps, eConv1D, EMLP and the Gaussian head), draws
its parameters and saves ``state_dict``, input and output; a fresh process under another ``OPENBLAS_CORETYPE``
builds the module anew from the same reps, loads the state and must reproduce the output to 1e-12 (float64).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from symm.testing import openblas_kernels

BUILD = r"""
import sys
import numpy as np
import symm
import symm_torch
import torch

torch.set_default_dtype(torch.float64)
D6 = symm.groups.dihedral(6)
reg, std = D6.regular_rep(), D6.natural_rep("standard")
C8 = symm.groups.cyclic(8)
Q8 = symm.groups.quaternion()
P = np.linalg.qr(np.random.default_rng(0).standard_normal((16, 16)))[0]
q8_rotated = (Q8.regular_rep() * 2).change_basis(P)
mixed = symm.direct_sum(reg, std)

def modules():
    return {
        "eLinear D6 regular->standard": (symm_torch.nn.eLinear(reg, std), (5, 12)),
        "eLinear C-type": (symm_torch.nn.eLinear(C8.regular_rep() * 2, C8.regular_rep()), (5, 16)),
        "eLinear H-type rotated": (symm_torch.nn.eLinear(q8_rotated, Q8.regular_rep()), (5, 16)),
        "eConv1D": (symm_torch.nn.eConv1D(mixed, reg, kernel_size=3), (2, 14, 9)),
        "EMLP": (symm_torch.models.EMLP(mixed, symm.direct_sum(std, reg), hidden_units=[24, 24]), (5, 14)),
        "Gaussian head (full covariance)": (Flat(symm_torch.nn.EquivMultivariateNormal(mixed, diagonal=False)), None),
    }

class Flat(torch.nn.Module):  # mean and covariance of the head, flattened into one output
    def __init__(self, head):
        super().__init__()
        self.head = head
        self.shape = (3, head.in_rep.size)

    def forward(self, z):
        mu, cov = self.head.mean_and_covariance(z)
        return torch.cat([mu, cov.flatten(1)], dim=1)

mode, path = sys.argv[1], sys.argv[2]
if mode == "save":
    torch.manual_seed(0)
    saved = {}
    for name, (m, shape) in modules().items():
        shape = shape or m.shape
        for p in m.parameters():
            torch.nn.init.normal_(p)  # away from any structured init, so every parameter matters
        x = torch.randn(shape)
        m.eval()
        saved[name] = (m.state_dict(), x, m(x).detach())
    torch.save(saved, path)
else:
    saved = torch.load(path)
    worst = 0.0
    for name, (m, _) in modules().items():
        state, x, y = saved[name]
        m.load_state_dict(state)
        m.eval()
        worst = max(worst, float((m(x) - y).abs().max() / y.abs().max()))
    print(worst)
"""


def _run(kernel: str | None, *args: str) -> str:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("OPENBLAS_CORETYPE", None)
    if kernel:
        env["OPENBLAS_CORETYPE"] = kernel
    proc = subprocess.run([sys.executable, "-c", BUILD, *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"kernel {kernel}: {proc.stderr[-3000:]}"
    return proc.stdout


def test_state_dict_gives_the_same_outputs_under_another_kernel(tmp_path):
    kernels = openblas_kernels()
    if len(kernels) < 2:
        pytest.skip(f"needs two OpenBLAS kernels this CPU can run (found {kernels or 'none'}: not x86-64?)")
    path = str(tmp_path / "modules.pt")
    _run(kernels[-1], "save", path)
    for kernel in kernels[:-1]:
        worst = float(_run(kernel, "load", path))
        assert worst < 1e-12, f"saved under {kernels[-1]}, loaded under {kernel}: outputs differ by {worst:.2e}"


def test_outputs_are_float64_reproducible_in_a_fresh_process(tmp_path):
    path = str(tmp_path / "modules.pt")
    _run(None, "save", path)
    assert float(_run(None, "load", path)) < 1e-12
    assert torch.get_default_dtype() == torch.float32  # the subprocess's default dtype did not leak here
