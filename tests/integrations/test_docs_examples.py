"""The examples of docs/integrations.md run as written (with fewer steps and epochs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"


def _blocks(section: str) -> list[str]:
    text = DOC.read_text()
    part = re.search(rf"## {re.escape(section)}\n(.*?)(?=\n## |\Z)", text, re.S).group(1)
    return re.findall(r"```python\n(.*?)```", part, re.S)


def test_the_hugging_face_example_runs_offline_on_an_image_folder(tmp_path):
    pytest.importorskip("datasets", reason="pip install 'ganaug[hf]' (make test installs it)")
    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "owl"):
        (tmp_path / "images" / name).mkdir(parents=True)
        for index in range(8):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / "images" / name / f"{index}.png")
    code = _blocks("Hugging Face `datasets`")[0].replace("steps=300", "steps=2, model='test_cdcgan'")
    code += "\nassert generator.classes == ['cat', 'dog', 'owl'], generator.classes\nassert len(labels) > 0\n"
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "runs" / "hf" / "generator" / "generator.json").exists()


def test_the_lightning_example_runs(tmp_path, monkeypatch):
    pytest.importorskip("pytorch_lightning", reason="pip install 'ganaug[lightning]' (make test installs it)")
    single, ddp = _blocks("PyTorch Lightning")
    assert "use_distributed_sampler=False" in ddp and "rank=trainer.global_rank" in ddp
    monkeypatch.chdir(tmp_path)
    code = single.replace("steps=300", "steps=2, model='test_cdcgan'").replace("max_epochs=5", "max_epochs=2")
    code = code.replace('accelerator="cpu",', 'accelerator="cpu", logger=False, enable_checkpointing=False, '
                        'enable_progress_bar=False, enable_model_summary=False,')
    namespace: dict = {}
    exec(compile(code, "docs/integrations.md (Lightning)", "exec"), namespace)
    assert namespace["mix"].epoch == 1 and namespace["trainer"].current_epoch == 2
