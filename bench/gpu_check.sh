#!/usr/bin/env bash
# One prepared script for a lent CUDA machine (about 8 minutes), its sections in order of value. Each
# section's output and errors (tracebacks included) go to $OUT/<section>.log, its exit status and
# seconds to $OUT/sections.tsv, so a failure costs only its own section and is never lost.
#
#   1 cuda_tests     the needs_cuda tests
#   2 equal_batch    ganaug.fit against the tutorial loop at batch 64, and at fit's default GPU batch
#   3 cdcgan_512     cdcgan at batch 512 (failed once without a captured error)
#   4 colour         the colour family (biggan) against cdcgan per step at 64 and 128 px, batch 64 and 256
#   5 compile        torch.compile default and reduce-overhead against eager fit
#   6 gain           blood cells at 64 px, the rare-classes protocol, one process per seed side by side,
#                    with what time is left (SEEDS, GAIN_LIMIT seconds each)
#
# Usage: OUT=$OUT bench/gpu_check.sh [--dry-run]
#   --dry-run   every section on the CPU at tiny sizes (no GPU, no shared data; compile as 'off'), to catch a typo
#               before it costs device time; `make test` runs it (tests/test_gpu_check.py)
#   GANAUG_PYTHON=python3  use an interpreter that has ganaug's dependencies (ganaug from this checkout)
#   BLOOD=../shared/data/blood-cells  SEEDS="0 1 2"  GAIN_LIMIT=240  SECTIONS="1 2 3 4 5 6"
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
if [ -n "${GANAUG_PYTHON:-}" ]; then
    PY=$GANAUG_PYTHON
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    make setup >/dev/null || exit 1
    PY=.venv/bin/python
fi
OUT=${OUT:-bench/out/gpu_check}
SECTIONS=${SECTIONS:-1 2 3 4 5 6}
SEEDS=${SEEDS:-0 1 2}
GAIN_LIMIT=${GAIN_LIMIT:-240}
BLOOD=${BLOOD:-../shared/data/blood-cells}
mkdir -p "$OUT"
: > "$OUT/sections.tsv"

section() {  # section NAME LIMIT_SECONDS COMMAND...
    local name=$1 limit=$2 started rc
    shift 2
    started=$(date +%s)
    echo "== $name ($*)"
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - started ))" >> "$OUT/sections.tsv"
    tail -n 15 "$OUT/$name.log"
    [ "$rc" = 0 ] || echo "!! $name: exit status $rc (124: stopped at ${limit} s); its log: $OUT/$name.log"
}
wanted() { case " $SECTIONS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if [ "$DRY" = 1 ]; then
    DEVICE=cpu STEPS=2 REPEATS=1 SAMPLES=64 BATCH=8 BIG=16 SIZES="16" WIDTH=4 GAN_STEPS=2 CLS_STEPS=2
    CLASSIFIER=small-cnn SIZE_FLAG="" SEEDS="0" GAIN_LIMIT=120 COMPILE="off" GAN_OPTIONS='{"judge": "pixels"}'
    DATA="$OUT/tiny_rgb.npz"
    "$PY" - "$DATA" <<'PY'
import sys
import numpy as np
from ganaug.testing import make_tiny_data
store = make_tiny_data((3, 16, 16), num_classes=4, per_class=30, seed=0)
x, y = store.images.numpy(), store.labels.numpy()
train = np.concatenate([np.flatnonzero(y == k)[:22] for k in range(4)])
test = np.setdiff1d(np.arange(len(y)), train)
np.savez(sys.argv[1], x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])
PY
else
    DEVICE=cuda STEPS=100 REPEATS=2 SAMPLES=50000 BATCH=64 BIG=512 SIZES="64 128" WIDTH=64 GAN_STEPS=2000
    CLS_STEPS=1000 CLASSIFIER=small-resnet SIZE_FLAG="--image-size 64" DATA=$BLOOD COMPILE="default reduce-overhead"
    GAN_OPTIONS='{}'
fi

"$PY" - <<'PY' | tee "$OUT/device.txt"
import torch
print("device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device (CPU)",
      "| torch", torch.__version__, "| CUDA", torch.version.cuda)
PY
wanted 1 && section cuda_tests 180 "$PY" -m pytest -q -p no:cacheprovider -m needs_cuda tests/test_cuda.py
wanted 2 && section equal_batch 150 "$PY" bench/train_throughput.py --device "$DEVICE" --steps "$STEPS" \
    --repeats "$REPEATS" --batch-size "$BATCH" --fit-batch-sizes "$BATCH" auto --sample-images "$SAMPLES" \
    --json "$OUT/equal_batch.json"
wanted 3 && section cdcgan_512 90 "$PY" bench/train_throughput.py --device "$DEVICE" --steps "$STEPS" \
    --repeats 1 --models cdcgan --batch-size "$BIG" --fit-batch-sizes "$BIG" --sample-images "$SAMPLES" \
    --json "$OUT/cdcgan_512.json"
if wanted 4; then
    for batch in "$BATCH" $(( BATCH * 4 )); do
        section "colour_b$batch" 120 "$PY" bench/family_step.py --device "$DEVICE" --sizes $SIZES \
            --width "$WIDTH" --batch-size "$batch" --steps 5
    done
fi
wanted 5 && section compile 120 "$PY" bench/train_throughput.py --device "$DEVICE" --steps "$STEPS" --repeats 1 \
    --no-tutorial --models dcgan --batch-size "$BIG" --compile $COMPILE --sample-images "$SAMPLES" \
    --json "$OUT/compile.json"
if wanted 6; then
    started=$(date +%s)
    for seed in $SEEDS; do  # side by side: small models leave most of the GPU idle one at a time
        timeout "$GAIN_LIMIT" "$PY" bench/rare_classes.py "$DATA" $SIZE_FLAG --settings lowdata20 --seeds 1 \
            --seed "$seed" --device "$DEVICE" --gan-model biggan --gan-steps "$GAN_STEPS" --steps "$CLS_STEPS" \
            --gan-options "$GAN_OPTIONS" \
            --classifier "$CLASSIFIER" --classic-preset microscopy --arms "real+classic+synthetic@0.5" --plan \
            --plan-quick --out "$OUT/gain" > "$OUT/gain_seed$seed.log" 2>&1 &
    done
    wait
    for seed in $SEEDS; do
        grep -q "^### lowdata20" "$OUT/gain_seed$seed.log" && rc=0 || rc=1
        printf 'gain_seed%s\t%s\t%s\n' "$seed" "$rc" "$(( $(date +%s) - started ))" >> "$OUT/sections.tsv"
        [ "$rc" = 0 ] || { echo "!! gain seed $seed did not finish; its log:"; tail -n 5 "$OUT/gain_seed$seed.log"; }
    done
fi
echo "== sections (name, exit status, seconds)"
cat "$OUT/sections.tsv"
