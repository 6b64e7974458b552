#!/usr/bin/env bash
# The rare-classes protocol (bench/rare_classes.py) on a CUDA machine, one process per (setting, seed),
# JOBS at a time, each stopped after JOB_LIMIT seconds; the per-seed reports are merged afterwards
# with bench/merge_gain.py. Results go to bench/out/rare_classes (and a tarball to $OUT when set).
# Usage: MNIST=path/to/mnist.npz [GANAUG_PYTHON=python3] [JOBS=12] [JOB_LIMIT=300] bench/gpu_rare_classes.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${GANAUG_PYTHON:-.venv/bin/python}
[ -n "${GANAUG_PYTHON:-}" ] && export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
MNIST=${MNIST:-../shared/data/mnist.npz}
JOBS=${JOBS:-12}
JOB_LIMIT=${JOB_LIMIT:-300}
RESULTS=bench/out/rare_classes
mkdir -p "$RESULTS/logs"
# In priority order: the two settings with targets first, the budget check (3x steps) last.
for setting in longtail100 lowdata10 longtail10 lowdata50 "longtail100 --budget-factor 3"; do
    for seed in 0 1 2 3 4; do echo "$seed $setting"; done
done | xargs -P "$JOBS" -L 1 sh -c '
    seed=$0; name=$(echo "$*" | tr -c "a-z0-9\n" _)
    timeout '"$JOB_LIMIT"' '"$PY"' bench/rare_classes.py '"$MNIST"' --settings "$@" --seed "$seed" --seeds 1 \
        --device "${DEVICE:-cuda}" --threads 1 --out '"$RESULTS"' > '"$RESULTS"'/logs/"${name}_seed$seed".log 2>&1
    echo "$* seed $seed: rc $?"'
if [ -n "${OUT:-}" ]; then tar -czf "$OUT/rare_classes.tar.gz" -C bench/out rare_classes; fi
