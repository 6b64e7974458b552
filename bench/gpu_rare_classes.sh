#!/usr/bin/env bash
# The rare-classes protocol (bench/rare_classes.py) on a CUDA machine, one process per (setting, seed),
# JOBS at a time, each stopped after JOB_LIMIT seconds; the per-seed reports are merged afterwards
# with bench/merge_gain.py. Results go to bench/out/rare_classes (and a tarball to $OUT when set).
# Usage: MNIST=path/to/mnist.npz [GANAUG_PYTHON=python3] [JOBS=10] [JOB_LIMIT=330] [SEEDS="0 1 2 3 4"] \
#        [SETTINGS="longtail100 lowdata10 longtail10 lowdata50 budget"] bench/gpu_rare_classes.sh
# EXTRA is passed on to bench/rare_classes.py (e.g. EXTRA="--gan-model img2img").
# MPS=0 leaves CUDA MPS off (it is started by default when available).
# (budget: longtail100 at 3x the classifier steps). On an H200, 10 at a time under CUDA MPS, a long-tail
# seed took 4.3 minutes and a low-data seed 2.5.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${GANAUG_PYTHON:-.venv/bin/python}
[ -n "${GANAUG_PYTHON:-}" ] && export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
MNIST=${MNIST:-../shared/data/mnist.npz}
JOBS=${JOBS:-10}
JOB_LIMIT=${JOB_LIMIT:-330}
SEEDS=${SEEDS:-0 1 2 3 4}
SETTINGS=${SETTINGS:-longtail100 lowdata10 longtail10 lowdata50 budget}
RESULTS=bench/out/rare_classes
if [ "${MPS:-1}" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null; then
    # MPS lets the processes' small kernels run side by side instead of taking turns on the GPU.
    nvidia-cuda-mps-control -d && trap 'echo quit | nvidia-cuda-mps-control' EXIT && echo "CUDA MPS on"
fi
mkdir -p "$RESULTS/logs"
# In priority order: the two settings with targets first, the budget check (3x steps) last.
for setting in $SETTINGS; do
    [ "$setting" = budget ] && setting="longtail100 --budget-factor 3"
    for seed in $SEEDS; do echo "$seed $setting"; done
done | xargs -P "$JOBS" -L 1 sh -c '
    seed=$0; name=$(echo "$* ${EXTRA:-}" | tr -c "a-z0-9\n" _)
    timeout '"$JOB_LIMIT"' '"$PY"' bench/rare_classes.py '"$MNIST"' --settings "$@" --seed "$seed" --seeds 1 \
        --device "${DEVICE:-cuda}" --threads 1 ${EXTRA:-} --out '"$RESULTS"' > '"$RESULTS"'/logs/"${name}_seed$seed".log 2>&1
    echo "$* seed $seed: rc $?"'
if [ -n "${OUT:-}" ]; then tar -czf "$OUT/rare_classes.tar.gz" -C bench/out rare_classes; fi
