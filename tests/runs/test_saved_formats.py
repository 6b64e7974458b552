"""Run folders written by ganaug 0.1.0 (tests/fixtures/run_v0_1) still load, sample the same and resume."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import ganaug
from ganaug.testing import make_tiny_data

DATA = Path(__file__).parents[1] / "fixtures"
RUN = DATA / "run_v0_1"


def test_saved_generator_and_checkpoint_of_0_1_sample_as_they_did():
    expected = np.load(DATA / "run_v0_1_expected.npz")
    generator = ganaug.load(RUN / "generator")
    assert torch.equal(generator.sample(per_class=2, seed=7), torch.from_numpy(expected["generator"]))
    checkpoint = next((RUN / "checkpoints").iterdir())
    assert torch.equal(ganaug.load(checkpoint).sample(per_class=2, seed=7), torch.from_numpy(expected["checkpoint"]))
    assert torch.equal(ganaug.load(RUN).sample(per_class=2, seed=7), torch.from_numpy(expected["checkpoint"]))


def test_a_0_1_run_resumes(tmp_path):
    run = shutil.copytree(RUN, tmp_path / "run")
    with pytest.warns(UserWarning, match=r"class_balance=0.0 \(not 1.0\)"):  # 0.1 drew batches over images
        generator = ganaug.fit(make_tiny_data(), "test_cdcgan", steps=3, batch_size=8, seed=0, out=run, resume=True,
                               progress=False, checkpoint_every=1, keep_checkpoints=1, tensorboard=False)
    assert (run / "checkpoints" / "step_00000003").is_dir()
    assert generator.sample(per_class=1).shape == (3, 1, 8, 8)
