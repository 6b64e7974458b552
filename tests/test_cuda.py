"""GPU checks (skipped without CUDA): training runs there and its outputs load on the CPU."""

from __future__ import annotations

import pytest
import torch

import ganaug

pytestmark = pytest.mark.needs_cuda


def test_cuda_training_and_cpu_load(tiny_store, tmp_path):
    generator = ganaug.fit(tiny_store, "test_cdcgan", steps=4, batch_size=16, device="cuda", out=tmp_path,
                           progress=False)
    assert generator.device.type == "cuda"
    on_gpu = generator.sample(per_class=2, seed=3)
    on_cpu = ganaug.load(tmp_path, device="cpu")
    assert on_cpu.device.type == "cpu"
    # bf16 autocast is used only in training; sampling runs in float32 on both devices.
    assert (on_cpu.sample(per_class=2, seed=3).int() - on_gpu.int()).abs().max() <= 2


def test_auto_device_picks_cuda(tiny_store):
    assert ganaug.fit(tiny_store, "test_cdcgan", steps=1, batch_size=16, progress=False).device.type == "cuda"
    assert torch.cuda.is_available()
