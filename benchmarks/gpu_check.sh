#!/usr/bin/env bash
# GPU proof for symm: the backend suite on CuPy and torch-CUDA, the no-host-round-trip guards, and the GPU
# benchmarks, all written to ONE results file ($OUT/gpu-results.txt when $OUT is set, else
# gpu-results/gpu-results.txt).
#
# Usage
#   bash benchmarks/gpu_check.sh                   on a CUDA machine (typically 3-5 minutes, at most ~9)
#   GPU_CHECK_DRY=1 bash benchmarks/gpu_check.sh   anywhere: no installs; reports "no GPU" and exits 0
#   bash benchmarks/gpu_check.sh --fetch-wheels    on a machine with a package registry: download the
#                                                  pure-Python wheels symm's tests need into .whl/ so that
#                                                  an offline GPU machine can install them (carry .whl)
#
# What it installs (skipped with GPU_CHECK_DRY=1; every install is tried with a timeout, and a failure is
# noted in the results and the run goes on):
#   1. wheels found in ${GPU_CHECK_WHEELS:-.whl}/ (offline), into a private --target folder;
#   2. the packages still missing (array-api-compat, array-api-strict, pytest), from the registry;
#   3. if the interpreter has no CUDA torch or no CuPy: a venv with cupy-cuda12x/13x (by driver),
#      "numpy>=2" and ${SYMM_TORCH_CUDA_REQ:-torch==2.13.0} (PyPI's Linux x86_64 torch wheels are CUDA builds);
#   4. symm itself (pip --no-deps --no-index into the --target folder; else PYTHONPATH=repo root).
#
# Environment: GPU_CHECK_PYTHON (interpreter), GPU_CHECK_DRY, GPU_CHECK_WHEELS, GPU_CHECK_BENCH_ARGS
# (extra arguments for bench_gpu.py, e.g. "--n 200000"), GPU_CHECK_TEST_TIMEOUT (default 210),
# GPU_CHECK_BENCH_TIMEOUT (default 200). Worst case about 9 minutes; typically 3-5.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$(pwd)
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore JAX_ENABLE_X64=1
# JAX (present on some CUDA images) must not grab 75% of the GPU if anything imports it.
export XLA_PYTHON_CLIENT_PREALLOCATE=false

WHEELS=${GPU_CHECK_WHEELS:-$ROOT/.whl}
PURE_WHEELS=("array-api-compat==1.16.0" "array-api-strict==2.6.1")

if [ "${1:-}" = "--fetch-wheels" ]; then
    mkdir -p "$WHEELS"
    py=$(command -v python3 || command -v python)
    "$py" -m pip download --no-deps --only-binary=:all: -d "$WHEELS" "${PURE_WHEELS[@]}" || exit 1
    ls -l "$WHEELS"
    if [ -d .git ] && ! grep -qx '/.whl/' .git/info/exclude 2>/dev/null; then
        echo '/.whl/' >> .git/info/exclude
    fi
    echo "fetched into $WHEELS: pass it to the GPU machine (device tool: carry [\".whl\"])"
    exit 0
fi

DRY=${GPU_CHECK_DRY:-0}
RESULTS_DIR=${OUT:-$ROOT/gpu-results}
mkdir -p "$RESULTS_DIR"
RES=$RESULTS_DIR/gpu-results.txt
: > "$RES"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/symm-gpu.XXXXXX")
SITE=$WORK/site
mkdir -p "$SITE"
T0=$(date +%s)
FAILED_STEPS=()

log() { printf '%s\n' "$*" | tee -a "$RES"; }

# step NAME TIMEOUT CMD...: run with a timeout, tee into the results, record a failure
step() {
    local name=$1 limit=$2 start rc
    shift 2
    log ""
    log "### $name (timeout ${limit}s)"
    start=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$RES"
    rc=${PIPESTATUS[0]}
    [ "$rc" = 124 ] && log "!!! $name: TIMED OUT after ${limit}s"
    log "### $name: exit $rc after $(( $(date +%s) - start ))s"
    [ "$rc" = 0 ] || FAILED_STEPS+=("$name(rc=$rc)")
    return "$rc"
}

log "symm GPU check: $(date -u '+%Y-%m-%d %H:%M:%SZ') on $(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null) ($(uname -m)); dry=$DRY"
log "repo: $ROOT ($(git rev-parse --short HEAD 2>/dev/null || echo 'no git') $(git status --porcelain 2>/dev/null | grep -c . || true) changed files)"
log "results: $RES"

# ------------------------------------------------------------------------------------------------ GPU?
log ""
log "### nvidia-smi"
GPU=0
if command -v nvidia-smi >/dev/null 2>&1 && timeout 30 nvidia-smi -L >/dev/null 2>&1; then
    GPU=1
    timeout 30 nvidia-smi 2>&1 | tee -a "$RES"
    timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory,power.limit \
        --format=csv 2>&1 | tee -a "$RES"
else
    log "no GPU: nvidia-smi not found or lists no GPU; the GPU tests skip and the benchmark reports no GPU"
fi
CUDA_MAJOR=$( (nvidia-smi 2>/dev/null || true) | sed -n 's/.*CUDA Version: *\([0-9]*\).*/\1/p' | head -1)

# ------------------------------------------------------------------------------------------------ python
pick_python() {
    local c
    for c in ${GPU_CHECK_PYTHON:-} python3 /opt/torch/.venv/bin/python3 python; do
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import torch' >/dev/null 2>&1; then
            echo "$c"
            return
        fi
    done
    command -v "${GPU_CHECK_PYTHON:-python3}" || command -v python
}
PY=$(pick_python)

probe() {
    "$PY" - <<'EOF'
import importlib, sys
print(f"python {sys.version.split()[0]} at {sys.executable}")
for mod in ("numpy", "torch", "cupy", "array_api_compat", "array_api_strict", "pytest", "jax", "symm"):
    try:
        m = importlib.import_module(mod)
        extra = ""
        if mod == "torch":
            extra = f" cuda={m.version.cuda} available={m.cuda.is_available()}"
            if m.cuda.is_available():
                extra += f" device={m.cuda.get_device_name(0)}"
        if mod == "cupy":
            try:
                extra = f" devices={m.cuda.runtime.getDeviceCount()} runtime={m.cuda.runtime.runtimeGetVersion()}"
            except Exception as exc:
                extra = f" (no device: {type(exc).__name__})"
        print(f"  {mod:<17} {getattr(m, '__version__', '?')}{extra}  [{getattr(m, '__file__', '')}]")
    except Exception as exc:
        print(f"  {mod:<17} MISSING ({type(exc).__name__}: {str(exc)[:100]})")
EOF
}

has() { "$PY" -c "import $1" >/dev/null 2>&1; }

export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
log ""
log "### interpreter: $PY"

if [ "$DRY" != 0 ]; then
    log "GPU_CHECK_DRY=$DRY: skipping every install"
else
    pipi() { # pip install into the private --target folder, with a timeout; never fatal
        local limit=$1
        shift
        step "pip install $*" "$limit" "$PY" -m pip install -q --no-compile --upgrade --target "$SITE" "$@" ||
            log "NOTE: install failed ($*): continuing without it"
    }
    # 1. offline wheels
    if compgen -G "$WHEELS/*.whl" >/dev/null; then
        pipi 120 --no-index --no-deps "$WHEELS"/*.whl
    else
        log "no wheels in $WHEELS (fetch them where a registry is reachable: bash benchmarks/gpu_check.sh --fetch-wheels)"
    fi
    # 2. what is still missing, from the registry (fails fast on a machine without network)
    for pair in array_api_compat:array-api-compat array_api_strict:array-api-strict pytest:pytest; do
        has "${pair%%:*}" || pipi 120 --timeout 15 --retries 1 "${pair#*:}"
    done
    # 3. no CUDA torch or no CuPy in this interpreter: a venv with the CUDA stack from the registry
    if [ "$GPU" = 1 ] && ! "$PY" -c 'import torch, cupy; assert torch.cuda.is_available()' >/dev/null 2>&1; then
        CUPY_PKG=cupy-cuda12x
        [ "${CUDA_MAJOR:-12}" -ge 13 ] 2>/dev/null && CUPY_PKG=cupy-cuda13x
        VENV=$WORK/venv
        if step "venv" 60 "$PY" -m venv "$VENV"; then
            PY=$VENV/bin/python
            for req in "numpy>=2" "$CUPY_PKG" "${SYMM_TORCH_CUDA_REQ:-torch==2.13.0}" pytest \
                "array-api-compat>=1.9" "array-api-strict>=2.0"; do
                step "venv pip install $req" 300 "$PY" -m pip install -q --timeout 30 "$req" ||
                    log "NOTE: $req failed to install: continuing without it"
            done
            [ -n "$(compgen -G "$WHEELS/*.whl")" ] && "$PY" -m pip install -q --no-index --no-deps "$WHEELS"/*.whl
        fi
    fi
    # 4. symm (metadata + entry points), the torch plugin when present; else the repo root on PYTHONPATH
    pipi 120 --no-deps --no-index --no-build-isolation "$ROOT"
    [ -f backends/torch/pyproject.toml ] && pipi 120 --no-deps --no-index --no-build-isolation "$ROOT/backends/torch"
fi

# Last resort for pure-Python packages when pip is unusable: import them straight from the wheel (a zip).
for pair in array_api_compat:array_api_compat array_api_strict:array_api_strict; do
    if ! has "${pair%%:*}"; then
        for whl in "$WHEELS"/"${pair#*:}"-*.whl; do
            [ -f "$whl" ] && export PYTHONPATH="$whl:$PYTHONPATH" && log "NOTE: importing ${pair%%:*} from $whl"
        done
    fi
done

log ""
log "### versions"
probe 2>&1 | tee -a "$RES"

# ------------------------------------------------------------------------------------------------ tests
# One pytest run over the whole suite with only the GPU backends selected; per-backend counts from JUnit XML.
JUNIT=$WORK/junit-gpu.xml
count_by_backend() {
    "$PY" - "$1" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
from collections import Counter
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as exc:
    print(f"no JUnit report ({type(exc).__name__}: {exc})"); sys.exit(0)
counts, reasons, failed = {}, {}, []
for case in root.iter("testcase"):
    m = re.search(r"\[(.*)\]$", case.get("name", ""))
    key = "other (CPU / no backend)"
    if m:
        for n in ("cupy", "torch-cuda"):
            if re.search(rf"(^|-){re.escape(n)}(-|$)", m.group(1)):
                key = n
                break
    status = "passed"
    for tag, label in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        node = case.find(tag)
        if node is not None:
            status = label
            if tag == "skipped":
                msg = (node.get("message") or "").split("\n")[0][:150]
                reasons.setdefault(key, Counter())[msg] += 1
    counts.setdefault(key, Counter())[status] += 1
    if status in ("failed", "error"):
        failed.append(f"{case.get('classname')}::{case.get('name')}")
for key in ("cupy", "torch-cuda", "other (CPU / no backend)"):
    c = counts.get(key, Counter())
    print(f"  {key:<26} " + ", ".join(f"{c[s]} {s}" for s in ("passed", "failed", "error", "skipped")))
    if key != "other (CPU / no backend)":
        for msg, k in reasons.get(key, Counter()).most_common(3):
            print(f"      skipped {k}x: {msg}")
for f in failed[:60]:
    print(f"  FAILED {f}")
EOF
}

step "pytest tests (SYMM_BACKENDS=cupy,torch-cuda)" "${GPU_CHECK_TEST_TIMEOUT:-210}" \
    env SYMM_BACKENDS=cupy,torch-cuda "$PY" -m pytest tests -q -rfE -p no:cacheprovider --junitxml="$JUNIT"
log ""
log "### pass/fail counts per backend (GPU selection)"
count_by_backend "$JUNIT" 2>&1 | tee -a "$RES"

# The guards themselves on torch CPU (works without a GPU too): they must catch deliberate conversions.
step "pytest no-host-round-trip guards on torch CPU" 60 \
    env SYMM_BACKENDS=torch "$PY" -m pytest tests/test_no_host_roundtrip.py -q -rs -p no:cacheprovider

# The torch plugin's modules on CUDA: same outputs as on the CPU, equivariant on every element, train, export.
step "pytest symm_torch modules on CUDA" 120 \
    env PYTHONPATH="$ROOT/backends/torch:$PYTHONPATH" "$PY" -m pytest backends/torch/tests/test_torch_cuda.py \
    -q -rfEs -p no:cacheprovider

# ------------------------------------------------------------------------------------------------ bench
# shellcheck disable=SC2086
step "benchmarks/bench_gpu.py ${GPU_CHECK_BENCH_ARGS:-}" "${GPU_CHECK_BENCH_TIMEOUT:-200}" \
    "$PY" benchmarks/bench_gpu.py --budget-s 140 ${GPU_CHECK_BENCH_ARGS:-}

# ------------------------------------------------------------------------------------------------ summary
log ""
log "### summary"
log "total time: $(( $(date +%s) - T0 ))s; GPU present: $GPU"
if [ "$GPU" = 0 ]; then
    log "no GPU: GPU tests skipped and no benchmarks run (expected on a machine without a CUDA device)"
fi
if [ ${#FAILED_STEPS[@]} -gt 0 ]; then
    log "failed steps: ${FAILED_STEPS[*]}"
else
    log "all steps passed"
fi
log "results written to $RES"
rm -rf "$WORK"
# Without a GPU the check can only show that everything skips cleanly: exit 0 unless a step failed.
[ ${#FAILED_STEPS[@]} -eq 0 ]
