"""How well an equivariant MLP learns: symm-torch's EMLP against a plain MLP, a plain MLP trained on
orbit-augmented batches and, when it is installed, symm-learning's eMLP, on one equivariant teacher task.

Task: D6 (order 12), ``x ∈ reg ⊕ std`` (D = 14) → ``y ∈ std ⊕ reg`` (D = 14). The teacher is a random plain
tanh MLP made equivariant by averaging over the group, ``f(x) = (1/|G|) Σ_g ρ_out(g)ᵀ h(ρ_in(g) x)``, scaled to
unit output variance. 2,000 training samples (targets with Gaussian noise of std 0.05), 1,000 clean test
samples, 300 full-batch Adam steps, hidden widths [128, 128] and ReLU for every model. The plain MLP with
augmentation draws one random group element per sample at every step.

Run ``python benchmarks/bench_learning.py`` (``--quick``: one seed, 100 steps). ``--eval-timing`` instead
times eval-mode inference with grad enabled (no ``torch.no_grad()``) against the exported plain MLP: D6,
regular rep in and out, three hidden layers of 264 units, batches of 1024 and 64. The symm-learning row needs
``symm-learning`` and ``escnn`` (numpy<2); with escnn installed the group and reps are escnn's (read by
``symm.Rep.from_escnn``), so every model sees exactly the same matrices and data. Without symm-learning the
row says "not installed".
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

if __name__ == "__main__":
    import importlib.util
    import sys

    _missing = [m for m in ("torch", "symm_torch") if importlib.util.find_spec(m) is None]
    if _missing:
        # One line, exit 0: `symm bench` reports the script as skipped, not crashed.
        print(
            f"skipped: {' and '.join(_missing)} not installed (the plugin from a checkout: "
            'pip install . ./backends/torch "torch==2.13.0")'
        )
        sys.exit(0)

import torch

warnings.filterwarnings("ignore", message=".*py3nj.*")


def _task_reps() -> tuple[Any, Any, Any, Any]:
    """``(symm in_rep, symm out_rep, escnn in_rep or None, escnn out_rep or None)`` of D6."""
    import symm

    try:
        import escnn.group as eg
    except ImportError:
        G = symm.groups.dihedral(6)
        std = G.natural_rep("standard")
        return symm.direct_sum(G.regular_rep(), std), symm.direct_sum(std, G.regular_rep()), None, None
    E = eg.dihedral_group(6)
    e_in = eg.directsum([E.regular_representation, E.irrep(1, 1)])
    e_out = eg.directsum([E.irrep(1, 1), E.regular_representation])
    return symm.Rep.from_escnn(e_in), symm.Rep.from_escnn(e_out), e_in, e_out


def _element_mats(rep: Any) -> np.ndarray:
    return np.stack([rep(g) for g in rep.group.elements])


def make_data(
    rin: Any, rout: Any, n_train: int = 2000, n_test: int = 1000, noise: float = 0.05, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Teacher data (float32): the same for every model of one seed."""
    rng = np.random.default_rng(1000 + seed)
    A, B = _element_mats(rin), _element_mats(rout)  # (|G|, D, D)
    D_in, D_out, width = rin.size, rout.size, 64
    W1 = rng.normal(size=(width, D_in)) / np.sqrt(D_in)
    b1 = 0.3 * rng.normal(size=width)
    W2 = rng.normal(size=(width, width)) / np.sqrt(width)
    W3 = rng.normal(size=(D_out, width)) / np.sqrt(width)

    def teacher(x: np.ndarray) -> np.ndarray:
        gx = np.einsum("gij,nj->gni", A, x)
        h = np.tanh(np.tanh(gx @ W1.T + b1) @ W2.T) @ W3.T  # (|G|, N, D_out)
        return np.einsum("gji,gnj->ni", B, h) / len(A)  # ρ_out(g)ᵀ h(ρ_in(g) x), averaged

    x = rng.normal(size=(n_train + n_test, D_in))
    y = teacher(x)
    y /= y.std()
    y_train = y[:n_train] + noise * rng.normal(size=(n_train, D_out))
    to = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return {
        "x_train": to(x[:n_train]),
        "y_train": to(y_train),
        "x_test": to(x[n_train:]),
        "y_test": to(y[n_train:]),
        "A": to(A),
        "B": to(B),
    }


def _plain_mlp(d_in: int, d_out: int, hidden: list[int]) -> torch.nn.Sequential:
    widths, layers = [d_in, *hidden, d_out], []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train(
    model: torch.nn.Module, data: dict[str, torch.Tensor], lr: float, steps: int, augment: bool = False, seed: int = 0
) -> float:
    """Full-batch Adam on MSE; returns the test MSE."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = data["x_train"], data["y_train"]
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        xb, yb = x, y
        if augment:
            g = torch.randint(len(data["A"]), (len(x),), generator=gen)
            xb = torch.einsum("nij,nj->ni", data["A"][g], x)
            yb = torch.einsum("nij,nj->ni", data["B"][g], y)
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        torch.nn.functional.mse_loss(getattr(out, "tensor", out), yb).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        out = model(data["x_test"])
        return float(torch.nn.functional.mse_loss(getattr(out, "tensor", out), data["y_test"]))


def builders(rin: Any, rout: Any, e_in: Any, e_out: Any, hidden: list[int], emlp_kw: dict) -> dict[str, Callable]:
    """Model name -> builder (``None`` when its package is not installed)."""
    from symm_torch.models import EMLP

    out: dict[str, Callable | None] = {
        "symm-torch EMLP": lambda: EMLP(rin, rout, hidden_units=hidden, **emlp_kw),
        "plain MLP": lambda: _plain_mlp(rin.size, rout.size, hidden),
        "plain MLP + augmentation": lambda: _plain_mlp(rin.size, rout.size, hidden),
    }
    try:
        from symm_learning.models import eMLP
    except ImportError:
        out["symm-learning eMLP"] = None
    else:
        if e_in is None:
            out["symm-learning eMLP"] = None
        else:
            out["symm-learning eMLP"] = lambda: eMLP(e_in, e_out, hidden_units=hidden)
    return out


def eval_timing() -> None:
    """Eval-mode EMLP forward (grad enabled and no_grad) / its exported plain MLP, at two batch sizes."""
    from _common import interleaved_medians  # benchmarks/ is on sys.path when this script runs
    from symm_torch.models import EMLP

    import symm

    rep = symm.groups.dihedral(6).regular_rep()
    for batch in (1024, 64):
        torch.manual_seed(0)
        model = EMLP(rep, rep, hidden_units=[264] * 3).eval()
        plain = model.export().eval()
        x = torch.randn(batch, rep.size)

        def run(mod: torch.nn.Module, grad: bool, x: torch.Tensor = x) -> Callable[[], torch.Tensor]:
            def f() -> torch.Tensor:
                with torch.set_grad_enabled(grad):
                    return mod(x)

            return f

        t = interleaved_medians([run(model, True), run(plain, True), run(model, False), run(plain, False)], repeats=40)
        print(
            f"batch {batch}: EMLP eval / plain, grad enabled {t[0] / t[1]:.2f}x ({t[0] * 1e3:.3f} ms), "
            f"no_grad {t[2] / t[3]:.2f}x ({t[2] * 1e3:.3f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 100 steps")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--lrs", default="1e-3,3e-3")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--emlp-kw", default="{}", help="JSON keyword arguments of symm-torch's EMLP (sweeps)")
    parser.add_argument("--only", default=None, help="comma list of model names to run")
    parser.add_argument("--eval-timing", action="store_true", help="time eval-mode inference instead")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.eval_timing:
        eval_timing()
        return
    steps, seeds = (100, 1) if args.quick else (args.steps, args.seeds)
    lrs = [float(v) for v in args.lrs.split(",")]
    hidden = [128, 128]
    rin, rout, e_in, e_out = _task_reps()
    models = builders(rin, rout, e_in, e_out, hidden, json.loads(args.emlp_kw))
    if args.only:
        keep = {s.strip() for s in args.only.split(",")}
        models = {k: v for k, v in models.items() if k in keep}
    print(
        f"D6 reg+std -> std+reg, {'escnn' if e_in is not None else 'symm'} reps; hidden {hidden}; "
        f"{steps} full-batch Adam steps; seeds {seeds}; torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    results: dict[str, dict[float, list[float]]] = {}
    for name, build in models.items():
        if build is None:
            print(f"{name:28s} not installed")
            continue
        results[name] = {}
        for lr in lrs:
            mses = []
            for seed in range(seeds):
                data = make_data(rin, rout, seed=seed)
                torch.manual_seed(seed)
                model = build()
                t0 = time.perf_counter()
                mses.append(train(model, data, lr, steps, augment="augmentation" in name, seed=seed))
                dt = time.perf_counter() - t0
            n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
            results[name][lr] = mses
            print(
                f"{name:28s} lr {lr:g}: test MSE {statistics.mean(mses):.4f} "
                f"(per seed {', '.join(f'{m:.4f}' for m in mses)}); {n_params} parameters; {dt:.1f} s/run"
            )
    print(json.dumps({k: {str(lr): v for lr, v in r.items()} for k, r in results.items()}))


if __name__ == "__main__":
    main()
