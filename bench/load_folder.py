"""Seconds to load an image folder: a plain PIL loop against load_data, serial, parallel and from its cache.

Phases, each in a fresh process (so its peak memory, ru_maxrss, is its own; the interpreter with torch
imported is reported as ``baseline``), alternating over ``--repeats`` so a machine whose load changes
affects all alike; the report is each phase's best time:

* ``plain``: for each file, ``Image.open``, ``convert("RGB")``, ``resize((S, S), BILINEAR)``,
  ``np.asarray``, then one ``np.stack`` (what load_data's per-file work has to match), on one core;
* ``serial``: ``load_data(folder, image_size=S, workers=1, cache=False)`` on one core;
* ``parallel``: the same with ``workers=None`` (one thread per core, at most 8) on every core;
* ``cold``: ``cache=True`` with an empty cache (decode, then write the cache);
* ``hit``: ``cache=True`` again (the scan, the fingerprint check, reading and verifying the cache).

Files are read once before timing, so every phase reads them from the page cache. ``--limit N`` loads
every k-th file of the folder (all classes kept), linked into a temporary folder.

    python bench/load_folder.py ../shared/data/blood-cells/train --size 32 --limit 2000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("plain", "serial", "parallel", "cold", "hit")
ONE_CORE = ("plain", "serial")


def image_files(root: Path) -> list[Path]:
    from ganaug.data.folders import FolderScan, class_folders, find_image_files

    scan = FolderScan()
    for label, name in enumerate(class_folders(root)):
        find_image_files(root / name, label, scan)
    return [path for path, _ in scan.files]


def limited(root: Path, limit: int, into: Path) -> Path:
    """Every k-th image file of ``root``, linked into ``into`` under its class folder."""
    files = image_files(root)
    step = max(1, len(files) // limit)
    for path in files[::step][:limit]:
        target = into / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path.resolve())
    return into


def run_phase(phase: str, folder: Path, size: int) -> dict:
    """One phase in this process; returns seconds, images and the peak resident memory."""
    if phase in ONE_CORE and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import numpy as np
    import torch
    from PIL import Image

    import ganaug

    if phase in ONE_CORE:
        torch.set_num_threads(1)
    files = image_files(folder) if phase == "plain" else []
    started = time.perf_counter()
    if phase == "baseline":
        count = 0
    elif phase == "plain":
        arrays = []
        for path in files:
            with Image.open(path) as image:
                arrays.append(np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR)))
        count = len(np.stack(arrays))
    else:
        options = {"serial": {"workers": 1, "cache": False}, "parallel": {"cache": False},
                   "cold": {"cache": True}, "hit": {"cache": True}}[phase]
        count = len(ganaug.load_data(folder, image_size=size, **options))
    seconds = time.perf_counter() - started
    return {"phase": phase, "seconds": seconds, "images": count,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(phase: str, folder: Path, size: int, cache_dir: str) -> dict:
    env = {**os.environ, "GANAUG_CACHE_DIR": cache_dir, "OMP_NUM_THREADS": "1" if phase in ONE_CORE else
           os.environ.get("OMP_NUM_THREADS", "")}
    if not env["OMP_NUM_THREADS"]:
        del env["OMP_NUM_THREADS"]
    out = subprocess.run([sys.executable, __file__, "--phase", phase, str(folder), "--size", str(size)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=None, help="load only this many files (every k-th)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--phase", choices=("baseline", *PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.folder, args.size)))
        return

    with tempfile.TemporaryDirectory(prefix="load-folder-") as scratch:
        folder = limited(args.folder, args.limit, Path(scratch) / "data") if args.limit else args.folder
        for path in image_files(folder):  # into the page cache
            path.read_bytes()
        best: dict[str, dict] = {}
        baseline = child("baseline", folder, args.size, str(Path(scratch) / "unused"))
        for repeat in range(args.repeats):
            cache_dir = str(Path(scratch) / f"cache{repeat}")
            for phase in PHASES:
                result = child(phase, folder, args.size, cache_dir)
                print(f"  repeat {repeat} {phase:8s} {result['seconds']:8.2f} s", file=sys.stderr)
                if phase not in best or result["seconds"] < best[phase]["seconds"]:
                    best[phase] = result
    plain = best["plain"]["seconds"]
    print(f"{best['plain']['images']} images of {args.folder} at {args.size}x{args.size}; "
          f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}); "
          f"best of {args.repeats}; baseline peak memory {baseline['peak_mb']:.0f} MB")
    print(f"{'phase':10s} {'seconds':>9s} {'images/s':>9s} {'x plain':>8s} {'peak MB':>8s} {'+ baseline':>10s}")
    for phase in PHASES:
        r = best[phase]
        print(f"{phase:10s} {r['seconds']:9.2f} {r['images'] / r['seconds']:9.0f} {r['seconds'] / plain:8.2f} "
              f"{r['peak_mb']:8.0f} {r['peak_mb'] - baseline['peak_mb']:10.0f}")
    if args.json:
        args.json.write_text(json.dumps({"folder": str(args.folder), "size": args.size, "limit": args.limit,
                                         "cores": os.cpu_count(), "baseline": baseline, "best": best}, indent=2))


if __name__ == "__main__":
    main()
