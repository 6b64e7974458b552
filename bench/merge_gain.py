"""Merge gain reports of the same protocol run on different seeds, for tighter intervals.

Each run of the protocol costs tens of minutes on a CPU, so seeds are often added later
(``bench/gain_mnist.py --seed 5``). This reads the ``gain.json`` files, checks that they share
every option but the seeds, refuses overlapping seeds, and prints (and with ``--out`` writes) the
report over all seeds: table, verdict and plots.

Run: ``python bench/merge_gain.py bench/out/gain_filter/per_class_10/gain.json other/gain.json --out merged/``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganaug.gain import GainReport
from ganaug.gain.arms import arm_from_name

PER_RUN = ("seed", "seeds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="+", help="gain.json files")
    parser.add_argument("--out", type=Path, default=None, help="write gain.json, gain.md and plots here")
    parser.add_argument("--tail", type=int, default=0,
                        help="also print per-class recall of the last N classes (the rarest of a long-tail draw) and "
                             "every arm's balanced accuracy per seed")
    args = parser.parse_args()

    loaded = [json.loads(path.read_text()) for path in args.reports]
    for report in loaded:  # reports from before the option trained their classifiers at a constant rate
        report["config"].setdefault("lr_schedule", "constant")
        if any(arm_from_name(arm).auto for arm in report["arms"]):  # @auto topped every class up
            report["config"].setdefault("top_up_below", None)
    first = loaded[0]
    for path, other in zip(args.reports[1:], loaded[1:]):
        differing = sorted(k for k in first["config"]  # keys only one report has: written by another version
                           if k not in PER_RUN and k in other["config"] and first["config"][k] != other["config"][k])
        if differing or other["arms"] != first["arms"]:
            raise SystemExit(f"{path} is not the same protocol as {args.reports[0]} (differs in {differing or 'arms'})")
    runs = [run for report in loaded for run in report["runs"]]
    seeds = sorted({run["seed"] for run in runs})
    if len(runs) != len(seeds) * len(first["arms"]):
        raise SystemExit("the reports share seeds; merge only reports of disjoint seeds")
    config = {**first["config"], "seed": seeds[0], "seeds": len(seeds)}
    report = GainReport(config, first["classes"], first["arms"], runs,
                        [q for r in loaded for q in r.get("quality", [])],
                        [f for r in loaded for f in r.get("fidelity", [])],
                        [s for r in loaded for s in r.get("gan_training_sets", [])],
                        sum(r.get("seconds", 0.0) for r in loaded))
    print(f"{len(seeds)} seeds: {seeds}\n")
    print(report.to_markdown())
    for line in report.verdict():
        print(f"- {line}")
    if args.tail:
        classes = first["classes"][-args.tail:]
        print(f"\n| arm | {' | '.join(classes)} | balanced accuracy per seed |\n|---|" + "---|" * (len(classes) + 1))
        for arm, recall in report.per_class_recall().items():
            per_seed = [100 * run["metrics"]["balanced_accuracy"] for run in sorted(runs, key=lambda r: r["seed"])
                        if run["arm"] == arm]
            print(f"| {arm} | " + " | ".join(f"{100 * v:.1f}" for v in recall[-args.tail:]) + " | "
                  + ", ".join(f"{v:.1f}" for v in per_seed) + " |")
    if args.out:
        report.save(args.out, overwrite=True)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
