#!/usr/bin/env bash
# One script for a CUDA machine (about 3 minutes): the needs_cuda tests, then the GPU benchmarks.
# Usage: bench/gpu_check.sh   (from the repository root; sets up .venv through make if needed)
#        GANAUG_PYTHON=python3 bench/gpu_check.sh   (use an interpreter that already has ganaug's
#        dependencies, e.g. on a machine without internet; ganaug itself is taken from this checkout)
# Everything printed is also written to bench/out/gpu_check.log (and copied to $OUT when set).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${GANAUG_PYTHON:-}" ]; then
    PY=$GANAUG_PYTHON
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    make setup >/dev/null || exit 1
    PY=.venv/bin/python
fi
mkdir -p bench/out
LOG=bench/out/gpu_check.log
{
$PY - <<'PY'
import torch
print("device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "NO CUDA DEVICE",
      "| torch", torch.__version__, "| CUDA", torch.version.cuda)
PY
echo "== needs_cuda tests"
$PY -m pytest -q -p no:cacheprovider -m needs_cuda tests/test_cuda.py
echo "== A. batch 64: tutorial loop vs ganaug.fit at equal batch and at fit's default GPU batch; sampling"
$PY bench/train_throughput.py --device cuda --steps 100 --repeats 2 --fit-batch-sizes auto \
    --sample-images 50000 --json bench/out/gpu_b64.json
echo "== B. large batch (dcgan, 28x28): tutorial loop vs ganaug.fit, both at batch 2048"
$PY bench/train_throughput.py --device cuda --steps 50 --repeats 2 --batch-size 2048 --models dcgan \
    --fit-batch-sizes 8192 --sample-images 50000 --json bench/out/gpu_b2048.json
echo "== C. torch.compile modes against eager fit in the same run (dcgan, batch 512; capped at 2 min)"
timeout 120 $PY bench/train_throughput.py --device cuda --steps 100 --repeats 1 --no-tutorial --models dcgan \
    --batch-size 512 --compile default reduce-overhead --sample-images 10000 --json bench/out/gpu_compile.json \
    || echo "compile section stopped (rc $?)"
} 2>&1 | tee "$LOG"
if [ -n "${OUT:-}" ]; then cp bench/out/gpu_*.json "$LOG" "$OUT"/ 2>/dev/null || true; fi
