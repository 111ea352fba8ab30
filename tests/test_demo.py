"""``symm demo``, ``symm bench`` and the progress bar (the command-line front door)."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys

import numpy as np
import pytest

import symm
from symm.app import bench as _bench
from symm.app import cli as _cli
from symm.app import demo as _demo
from symm.app.progress import Progress


@pytest.mark.parametrize(
    ("name", "order"), [("D6", 12), ("c8", 8), ("Q8", 8), ("S4", 24), ("A4", 12), ("Dic3", 12), ("D3xC2", 12)]
)
def test_parse_group(name, order):
    assert _demo.parse_group(name).order == order


@pytest.mark.parametrize("name", ["", "X9", "Q7", "D", "S9", "D3x", "C0"])
def test_parse_group_rejects(name):
    with pytest.raises(ValueError):
        _demo.parse_group(name)


def test_problem_is_invariant():
    p = _demo.make_problem("D6", seed=3)
    assert (p.dim, p.dof) == (30, 50)
    for g in p.rep.group.elements:
        m = p.rep(g)
        np.testing.assert_allclose(m @ p.mu, p.mu, atol=1e-10)
        np.testing.assert_allclose(m @ p.sigma @ m.T, p.sigma, atol=1e-10)
    assert np.linalg.eigvalsh(p.sigma).min() > 0


def test_demo_table_numpy(capsys):
    assert _cli.main(["demo", "--backend", "numpy", "--n", "300"]) == 0
    out, err = capsys.readouterr()
    assert "D6" in out and "dof_G = 50" in out
    lines = [line for line in out.splitlines() if line.startswith("numpy")]
    assert len(lines) == 1 and "symm" in lines[0]
    assert any(line.strip().startswith("empirical") for line in out.splitlines())
    assert err == ""  # no progress bar when stderr is not a terminal


def test_demo_symmetric_is_more_accurate():
    _, results = _demo.run_demo("D6", n=400, backends=["numpy"])
    (r,) = results
    assert r.status == "ok"
    assert r.errors["symm"][1] < r.errors["empirical"][1]
    assert r.whitened["symm"][1] < r.whitened["empirical"][1]


def test_demo_missing_backend_is_reported(monkeypatch, capsys):
    real = _demo._installed
    monkeypatch.setattr(_demo, "_installed", lambda name: name == "numpy" and real(name))
    assert _cli.main(["demo", "--backend", "numpy,torch", "--n", "50"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "not installed" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--group", "X9"],
        ["demo", "--n", "1"],
        ["demo", "--backend", "nope"],
        ["demo", "--plot", "/no/such/dir/fig.png"],
        ["demo", "--n", "abc"],
        ["demo", "--dtype", "int8"],
    ],
)
def test_demo_bad_options_exit_nonzero_one_line(argv, capsys):
    assert _cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_demo_plot(tmp_path, capsys):
    path = tmp_path / "err.png"
    assert _cli.main(["demo", "--backend", "numpy", "--n", "100", "--trials", "2", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "figure:" in capsys.readouterr().out


def test_error_curves_follow_theory():
    p = _demo.make_problem("C4", seed=0)
    c = _demo.error_curves(p, [400], trials=30, seed=0)
    assert 0.6 < c["cov_symm"][0] / c["cov_theory_symm"][0] < 1.5
    assert 0.7 < c["cov_emp"][0] / c["cov_theory_emp"][0] < 1.4


def test_demo_subprocess_no_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "symm", "demo", "--group", "bad"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_bench_outside_checkout(monkeypatch, capsys):
    monkeypatch.setattr(_bench, "find_benchmarks", lambda start=None: None)
    assert _cli.main(["bench"]) == 2
    assert "not installed" in capsys.readouterr().err


def test_bench_runs_scripts(tmp_path, capsys):
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "bench_ok.py").write_text(
        "import os, sys\nsys.stdout.write('ratio table ' + os.environ.get('SYMM_BENCH_QUICK', '0') + '\\n')\n"
    )
    (bench / "bench_fail.py").write_text("raise SystemExit(3)\n")
    assert _cli.main(["bench", "--path", str(tmp_path), "--list"]) == 0
    assert "bench_ok.py" in capsys.readouterr().out
    assert _cli.main(["bench", "--path", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ratio table 1" in out and "CRASHED (exit 3)" in out
    assert _cli.main(["bench", "--path", str(tmp_path), "--only", "ok", "--full"]) == 0
    assert "ratio table 0" in capsys.readouterr().out


def test_progress_silent_unless_tty():
    stream = io.StringIO()
    with Progress(5, "x", stream=stream) as bar:
        for _ in range(5):
            bar.advance()
    assert stream.getvalue() == ""

    class TTY(io.StringIO):
        def isatty(self):
            return True

    tty = TTY()
    with Progress(2, "work", stream=tty) as bar:
        bar.advance(2)
    assert "work [" in tty.getvalue() and "2/2" in tty.getvalue()
    assert tty.getvalue().endswith("\r\033[K")


def test_progress_env_disables(monkeypatch):
    monkeypatch.setenv("SYMM_NO_PROGRESS", "1")

    class TTY(io.StringIO):
        def isatty(self):
            return True

    assert not Progress(1, stream=TTY()).enabled


def test_demo_uses_public_api():
    assert callable(symm.mean) and callable(symm.cov)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["demo", "--seed", "-1"], ["--seed", "-1"]),
        (["demo", "--n", "1"], ["--n", "1"]),
        (["demo", "--trials", "0"], ["--trials", "0"]),
        (["demo", "--group", "X9"], ["--group", "X9"]),
        (["demo", "--backend", "numpy,nope"], ["--backend", "nope"]),
    ],
)
def test_demo_errors_name_the_option_and_the_input(argv, named, capsys):
    assert _cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    for word in named:
        assert word in err, (word, err)


def test_demo_missing_backends_take_one_line(monkeypatch, capsys):
    real = _demo._installed
    monkeypatch.setattr(_demo, "_installed", lambda name: name == "numpy" and real(name))
    assert _cli.main(["demo", "--n", "50"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "not installed" in line]
    assert len(lines) == 1
    assert all(b in lines[0] for b in _demo.BACKENDS if b != "numpy")


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_plot_states_the_trial_count():
    p = _demo.make_problem("C4", seed=0)
    curves = _demo.error_curves(p, [20, 40], trials=3, seed=0)
    fig = _demo.plot_error_curves(p, curves)
    assert "3 trials per N" in fig._suptitle.get_text()
    for ax in fig.axes:  # theory lines (dashed) are drawn above the measured points
        data = [line.get_zorder() for line in ax.get_lines() if line.get_linestyle() == "-"]
        theory = [line.get_zorder() for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert min(theory) > max(data)


def test_bench_skips_and_counts_verdicts(tmp_path, capsys):
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "bench_needs_x.py").write_text("print('skipped: x not installed')\n")
    (bench / "bench_rows.py").write_text("print('row a PASS')\nprint('row b FAIL')\nprint('results: 1 PASS, 1 FAIL')\n")
    assert _cli.main(["bench", "--path", str(tmp_path)]) == 0  # a FAIL row is not a crash
    out = capsys.readouterr().out
    summary = out.split("summary", 1)[1]
    assert "skipped: x not installed" in summary
    assert "1 PASS, 1 FAIL" in summary
    assert out.count("row a PASS") == 1


def test_bench_errors_name_the_option(tmp_path, capsys):
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "bench_ok.py").write_text("print('ok')\n")
    assert _cli.main(["bench", "--path", str(tmp_path), "--only", "nomatch"]) == 2
    err = capsys.readouterr().err
    assert "--only" in err and "nomatch" in err
    assert _cli.main(["bench", "--path", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "--path" in err and "nowhere" in err


def test_torch_thread_count_and_oversubscription_are_reported():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        quick = lambda: (np.zeros(1), np.zeros((1, 1)))  # noqa: E731
        assert _demo._torch_threads_note(quick, t_threads=0.0) == "2 threads"
        with pytest.warns(RuntimeWarning, match="oversubscription"):
            note = _demo._torch_threads_note(quick, t_threads=1.0)  # "1 s with 2 threads": far slower than 1
        assert "OVERSUBSCRIBED" in note
        torch.set_num_threads(1)
        assert _demo._torch_threads_note(quick, t_threads=1.0) == "1 thread"
    finally:
        torch.set_num_threads(threads)


def test_bench_reports_cores_threads_and_load(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    line = _bench.machine_line()
    assert f"{__import__('os').cpu_count()} cores" in line and "OMP_NUM_THREADS=1" in line
    monkeypatch.setattr("os.getloadavg", lambda: (1e6, 0.0, 0.0))
    assert "WARNING: the machine is busy" in _bench.machine_line()
