#!/usr/bin/env bash
# The rare-classes protocol (bench/rare_classes.py) on a CPU machine, one seed at a time per worker: train
# the seed's generator (--train-only), then measure the arms on it (--generators). Start one worker per
# core, each with its own seeds; each uses one torch thread, at low priority.
# Usage: [MNIST=path/to/mnist.npz] [SETTING=longtail100] [OUT=bench/out/rare_cpu] \
#        [ARMS="real+classic+synthetic@auto"] bench/cpu_rare_classes.sh SEED [SEED...]
# e.g. two workers on 2 cores: bench/cpu_rare_classes.sh 5 7 & bench/cpu_rare_classes.sh 6 8 &
# The @auto arms belong to the long-tail protocol; at low data (level classes) the default policy is
# "match" at 0.5, the arm ARMS="real+classic+synthetic@0.5".
# EXTRA is passed on to both calls of bench/rare_classes.py (e.g. EXTRA="--gan-model img2img"); so are the
# ARMS, which the training call checks first (an arm the protocol would not run stops it in seconds).
# Generators go to $OUT/<setting>/generators/seed<N>, reports to $OUT/auto/<setting>/seed<N>, logs to
# $OUT/logs, one line per finished step to $OUT/done.txt. Merge the reports with bench/merge_gain.py.
# On the 2-core project machine, with two workers, a long-tail seed took about 45 min for the generator
# and 12 to 19 for the arms.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${GANAUG_PYTHON:-.venv/bin/python}
MNIST=${MNIST:-../shared/data/mnist.npz}
SETTING=${SETTING:-longtail100}
OUT=${OUT:-bench/out/rare_cpu}
ARMS=${ARMS:-real+classic+synthetic@auto|real+classic+synthetic@balance, balanced sampling}
IFS='|' read -r -a arms <<< "$ARMS"
[ $# -ge 1 ] || { echo "usage: $0 SEED [SEED...]" >&2; exit 2; }
suffix=$(echo "${EXTRA:-}" | sed -n 's/.*--gan-model[ =]\([a-z0-9_]*\).*/_\1/p' | sed 's/_cdcgan$//')
mkdir -p "$OUT/logs"
for seed in "$@"; do
    started=$(date +%s)
    nice -n 5 "$PY" bench/rare_classes.py "$MNIST" --settings "$SETTING" --seed "$seed" --seeds 1 --device cpu \
        --threads 1 --train-only ${EXTRA:-} --arms "${arms[@]}" --out "$OUT" \
        > "$OUT/logs/train_${SETTING}${suffix}_seed$seed.log" 2>&1
    echo "$SETTING$suffix seed $seed generator: rc $? $(( $(date +%s) - started ))s" >> "$OUT/done.txt"
    started=$(date +%s)
    nice -n 5 "$PY" bench/rare_classes.py "$MNIST" --settings "$SETTING" --seed "$seed" --seeds 1 --device cpu \
        --threads 1 ${EXTRA:-} --generators "$OUT/$SETTING$suffix/generators" --out "$OUT/auto" --arms "${arms[@]}" \
        > "$OUT/logs/arms_${SETTING}${suffix}_seed$seed.log" 2>&1
    echo "$SETTING$suffix seed $seed arms: rc $? $(( $(date +%s) - started ))s" >> "$OUT/done.txt"
done
