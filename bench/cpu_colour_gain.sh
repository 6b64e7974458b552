#!/usr/bin/env bash
# The rare-classes protocol (bench/rare_classes.py) on colour images on a CPU machine, one seed at a time per
# worker: train the seed's generator (--train-only), then measure the arms on it (--generators). Start one
# worker per core, each with its own seeds; each uses one torch thread, at low priority.
# Usage: DATA=bench/out/blood-cells32.npz SETTING=lowdata20 [GAN=biggan] [GAN_STEPS=1000] [OUT=bench/out/colour] \
#        [ARMS="real+classic+synthetic@0.5"] [EXTRA=...] bench/cpu_colour_gain.sh SEED [SEED...]
# (make DATA with bench/folder_to_npz.py). The low-data default path is the arm real+classic+synthetic@0.5;
# the long-tail one real+classic+synthetic@auto. The arms use small-resnet and the microscopy preset.
# Generators go to $OUT/<data>_<setting>_<gan>/generators/seed<N>, reports to $OUT/auto/..., logs to $OUT/logs.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${GANAUG_PYTHON:-.venv/bin/python}
DATA=${DATA:?set DATA to an .npz made by bench/folder_to_npz.py}
SETTING=${SETTING:-lowdata20}
GAN=${GAN:-biggan}
GAN_STEPS=${GAN_STEPS:-1000}
OUT=${OUT:-bench/out/colour}
ARMS=${ARMS:-real+classic+synthetic@0.5}
IFS='|' read -r -a arms <<< "$ARMS"
[ $# -ge 1 ] || { echo "usage: $0 SEED [SEED...]" >&2; exit 2; }
name=$(basename "$DATA" .npz)_${SETTING}_$GAN
common=(--settings "$SETTING" --seeds 1 --device cpu --threads 1 --gan-model "$GAN" --gan-steps "$GAN_STEPS"
        --classifier small-resnet --classic-preset microscopy --arms "${arms[@]}")
mkdir -p "$OUT/logs"
for seed in "$@"; do
    if [ ! -f "$OUT/$name/generators/seed$seed/generator.json" ]; then
        started=$(date +%s)
        nice -n 5 "$PY" bench/rare_classes.py "$DATA" "${common[@]}" --seed "$seed" --train-only ${EXTRA:-} \
            --out "$OUT" > "$OUT/logs/train_${name}_seed$seed.log" 2>&1
        echo "$name seed $seed generator: rc $? $(( $(date +%s) - started ))s" >> "$OUT/done.txt"
    fi
    [ -n "${TRAIN_ONLY:-}" ] && continue
    started=$(date +%s)
    nice -n 5 "$PY" bench/rare_classes.py "$DATA" "${common[@]}" --seed "$seed" ${EXTRA:-} --remeasure-fidelity \
        --generators "$OUT/$name/generators" --out "$OUT/auto" > "$OUT/logs/arms_${name}_seed$seed.log" 2>&1
    echo "$name seed $seed arms: rc $? $(( $(date +%s) - started ))s" >> "$OUT/done.txt"
done
