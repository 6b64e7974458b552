"""bench/gpu_check.sh --dry-run: every section of the GPU script runs on the CPU at tiny sizes, so a typo in
it never costs device time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_script_dry_runs_every_section_on_the_cpu(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path), "GANAUG_PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), "--dry-run"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line.split("\t") for line in (tmp_path / "sections.tsv").read_text().splitlines()]
    assert [name for name, _, _ in rows] == ["cuda_tests", "equal_batch", "cdcgan_512", "colour_b8", "colour_b32",
                                             "compile", "gain_seed0"]
    failed = {name: (tmp_path / f"{name}.log").read_text()[-2000:] if (tmp_path / f"{name}.log").exists() else ""
              for name, rc, _ in rows if rc != "0"}
    assert not failed, failed
    assert "device: no CUDA device (CPU)" in (tmp_path / "device.txt").read_text()
    assert (tmp_path / "equal_batch.json").exists() and (tmp_path / "gain").is_dir()
