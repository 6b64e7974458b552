#!/usr/bin/env bash
# One script for a CUDA machine (under 5 minutes): the needs_cuda tests, then the GPU benchmarks.
# Usage: bench/gpu_check.sh   (from the repository root; sets up .venv through make if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
make setup >/dev/null
PY=.venv/bin/python
mkdir -p bench/out
$PY - <<'PY'
import torch
print("device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "NO CUDA DEVICE")
PY
echo "== needs_cuda tests"
$PY -m pytest -q -m needs_cuda tests/test_cuda.py
echo "== training throughput, batch 64 (tutorial loop vs ganaug.fit)"
$PY bench/train_throughput.py --device cuda --steps 200 --repeats 3 --sample-images 100000 --json bench/out/gpu_b64.json
echo "== training throughput, large batch"
$PY bench/train_throughput.py --device cuda --steps 200 --repeats 3 --batch-size 2048 --models dcgan \
    --sample-images 100000 --json bench/out/gpu_b2048.json
