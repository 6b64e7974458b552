"""GPU checks (skipped without CUDA; run by bench/gpu_check.sh): the fast path, and GPU checkpoints on the CPU."""

from __future__ import annotations

import json

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


def test_gpu_checkpoint_resumes_on_cpu(tiny_store, tmp_path):
    from ganaug.runs.checkpoint import checkpoint_dirs

    ganaug.fit(tiny_store, "test_cdcgan", steps=3, batch_size=16, device="cuda", out=tmp_path, progress=False,
               log_every=1)
    resumed = ganaug.fit(tiny_store, "test_cdcgan", steps=5, batch_size=16, device="cpu", out=tmp_path, resume=True,
                         progress=False, log_every=1)
    assert resumed.device.type == "cpu"
    assert checkpoint_dirs(tmp_path)[0].name == "step_00000005"
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss_d" in r] == [1, 2, 3, 4, 5]  # went on from step 3, not over


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
def test_fast_path_losses_match_plain_path(tiny_store, tmp_path, model):
    losses = {}
    for fast in (True, False):
        out = tmp_path / f"fast{fast}"
        ganaug.fit(tiny_store, model, steps=5, batch_size=16, device="cuda", out=out, progress=False, log_every=1,
                   fast_path=fast)
        records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        losses[fast] = torch.tensor([[r["loss_d"], r["loss_g"]] for r in records if "loss_d" in r])
    assert losses[True].shape == (5, 2)
    # bf16 keeps 8 bits of mantissa: a few steps drift by a few percent at most
    assert torch.allclose(losses[True], losses[False], rtol=0.05, atol=0.05), losses


def test_auto_device_picks_cuda(tiny_store):
    assert ganaug.fit(tiny_store, "test_cdcgan", steps=1, batch_size=16, progress=False).device.type == "cuda"


def test_default_gpu_batch_is_512_with_the_family_learning_rates(tiny_store, tmp_path):
    ganaug.fit(tiny_store, "test_cdcgan", steps=2, device="cuda", out=tmp_path, progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    family = ganaug.plugins.registry.default_registry().generator("test_cdcgan").make_config()
    assert saved["train"]["batch_size"] == 512 and saved["model"]["lr_g"] == family.lr_g


@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])
def test_compiled_training_on_cuda_matches_eager(tiny_store, tmp_path, mode):
    losses = {}
    for name in ("off", mode):
        out = tmp_path / name
        ganaug.fit(tiny_store, "test_cdcgan", steps=5, batch_size=16, device="cuda", out=out, progress=False,
                   log_every=1, compile=name)
        records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        losses[name] = torch.tensor([[r["loss_d"], r["loss_g"]] for r in records if "loss_d" in r])
    assert torch.allclose(losses[mode], losses["off"], rtol=0.05, atol=0.05), losses
    assert ganaug.load(tmp_path / mode, device="cpu").sample(per_class=1).shape[0] == tiny_store.num_classes
