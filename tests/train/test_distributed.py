"""Two processes with torchrun and gloo on the CPU: same weights everywhere, resumable, close to one process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from safetensors.torch import load_file

import ganaug

SCRIPT = textwrap.dedent('''
    import hashlib, json, os, sys
    import torch, torch.distributed as dist
    from safetensors.torch import save_file
    import ganaug

    data, out, model, steps, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    overrides = json.loads(sys.argv[6])
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    generator = ganaug.fit(data, model, steps=steps, batch_size=batch, out=out, seed=0, device="cpu",
                           progress=False, checkpoint_every=2, **overrides)
    state = {k: v.contiguous() for k, v in generator.gan.state_dict().items()}  # EMA included: fit returns it
    save_file(state, os.path.join(out, f"rank{rank}.safetensors"))
    samples = generator.sample(per_class=2, seed=5)
    save_file({"samples": samples.contiguous()}, os.path.join(out, f"samples{rank}.safetensors"))

    # SyntheticMix under DistributedSampler: each rank its own part of the same mix
    store = ganaug.load_data(data)
    real = torch.utils.data.TensorDataset(store.images, store.labels)
    mix = ganaug.SyntheticMix(real, generator, ratio=0.5, seed=1, fidelity=None)
    sampler = torch.utils.data.DistributedSampler(mix, shuffle=True, seed=2)
    indices = list(sampler)
    bank = hashlib.sha256(mix.bank.numpy().tobytes()).hexdigest()
    with open(os.path.join(out, f"mix{rank}.json"), "w") as handle:
        json.dump({"indices": indices, "bank": bank, "length": len(mix)}, handle)
    dist.destroy_process_group()
''')


def torchrun(*args: str, timeout: int = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", *args]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)


@pytest.fixture(scope="module")
def two_process_run(npz, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    script = folder / "train_ddp.py"
    script.write_text(SCRIPT)
    out = folder / "run"
    # test_cdcgan keeps an EMA generator (updated on rank 0 only) and batch norm (per-rank statistics)
    result = torchrun(str(script), str(npz), str(out), "test_cdcgan", "6", "8", json.dumps({"log_every": 1}))
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_parameters_are_equal_on_all_ranks(two_process_run):
    """Every rank returns the same generator: weights, batch-norm statistics and the EMA copy it samples from."""
    rank0, rank1 = (load_file(str(two_process_run / f"rank{r}.safetensors")) for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    assert any(k.startswith("ema_generator.") for k in rank0), "the run must keep an EMA to compare"
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    samples0, samples1 = (load_file(str(two_process_run / f"samples{r}.safetensors"))["samples"] for r in (0, 1))
    assert torch.equal(samples0, samples1)
    checkpoint = load_file(str(ganaug.runs.checkpoint.checkpoint_dirs(two_process_run)[0] / "weights.safetensors"))
    for key in rank0:  # and the final checkpoint holds what the ranks returned
        assert torch.equal(checkpoint[f"gan.{key}"], rank0[key]), key


def test_an_image_family_trains_the_same_on_every_rank(npz, tmp_path):
    """img2img corrupts each rank's slice of the batch with the shared noise stream: ranks stay identical."""
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    result = torchrun(str(script), str(npz), str(out), "test_img2img", "4", "8", json.dumps({}))
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (load_file(str(out / f"rank{r}.safetensors")) for r in (0, 1))
    assert rank0.keys() == rank1.keys() and all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    samples0, samples1 = (load_file(str(out / f"samples{r}.safetensors"))["samples"] for r in (0, 1))
    assert torch.equal(samples0, samples1)


def test_synthetic_mix_is_partitioned_across_ranks(two_process_run):
    parts = [json.loads((two_process_run / f"mix{r}.json").read_text()) for r in (0, 1)]
    assert parts[0]["bank"] == parts[1]["bank"], "ranks must mix in the same synthetic bank"
    assert not set(parts[0]["indices"]) & set(parts[1]["indices"])
    assert set(parts[0]["indices"]) | set(parts[1]["indices"]) == set(range(parts[0]["length"]))


def _loss_steps(run):
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    return [r["step"] for r in records if "loss_d" in r]


def test_two_process_checkpoint_resumes_in_one_process(two_process_run, npz, tmp_path):
    newest = ganaug.runs.checkpoint.checkpoint_dirs(two_process_run)[0]
    meta = json.loads((newest / "meta.json").read_text())
    assert meta["world_size"] == 2 and len(meta["rng_ranks"]) == 2 and meta["step"] == 6
    assert _loss_steps(two_process_run) == [1, 2, 3, 4, 5, 6]
    saved = {k[len("gan."):]: v for k, v in load_file(str(newest / "weights.safetensors")).items()
             if k.startswith("gan.")}

    results = []
    for copy in ("a", "b"):  # twice from the same 2-process checkpoint, each in a copy of the run folder
        run = tmp_path / copy
        shutil.copytree(two_process_run, run)
        with pytest.warns(UserWarning, match="batch_size=16"):  # the global batch is kept
            resumed = ganaug.fit(str(npz), "test_cdcgan", steps=8, batch_size=8, out=run, resume=True,
                                 progress=False, log_every=1)
        meta = json.loads((ganaug.runs.checkpoint.checkpoint_dirs(run)[0] / "meta.json").read_text())
        assert (meta["step"], meta["world_size"], meta["train_config"]["batch_size"]) == (8, 1, 16)
        assert _loss_steps(run) == [1, 2, 3, 4, 5, 6, 7, 8]  # continued at step 7, nothing repeated
        results.append({k: v.clone() for k, v in resumed.gan.state_dict().items()})

    first, second = results
    assert first.keys() == saved.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    for part in ("generator.", "discriminator.", "ema_generator."):
        assert any(not torch.equal(first[k], saved[k]) for k in first if k.startswith(part)), f"{part} did not train"


def _initial_weights(npz, model: str, seed: int, **overrides) -> dict[str, torch.Tensor]:
    """The weights ``fit`` starts from: the family built under the training process's seeded RNG."""
    from ganaug.plugins.registry import default_registry
    from ganaug.seeds import Stream, derive_seed

    store, entry = ganaug.load_data(str(npz)), default_registry().generator(model)
    with torch.random.fork_rng():
        torch.manual_seed(derive_seed(seed, Stream.TORCH_RNG, 0))
        return entry.build(num_classes=store.num_classes, image_shape=store.image_shape, **overrides).state_dict()


def test_matches_one_process_at_the_same_global_batch(npz, tmp_path):
    """Without batch norm or dropout, 2 x 8 images under DDP is the same computation as 1 x 16.

    Both runs see the same global batches and noise, so the weights agree up to the order of
    floating-point sums: the stated tolerance is 1e-4 of how far training moved them. (Families with
    batch norm differ more, since each rank normalises its own 8 images.)
    """
    pytest.importorskip("ganaug_mlp_gan", reason="needs the ganaug-mlp-gan plugin (installed by make)")
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    overrides = {"hidden": 32, "ema_decay": 0.9}  # the EMA (kept on rank 0) must agree too
    result = torchrun(str(script), str(npz), str(tmp_path / "ddp"), "mlp-gan", "6", "8", json.dumps(overrides))
    assert result.returncode == 0, result.stderr[-3000:]
    single = ganaug.fit(str(npz), "mlp-gan", steps=6, batch_size=16, seed=0, device="cpu", progress=False, **overrides)
    ddp = load_file(str(tmp_path / "ddp" / "rank0.safetensors"))
    one, start = single.gan.state_dict(), _initial_weights(npz, "mlp-gan", 0, **overrides)
    gap = torch.cat([(ddp[k] - one[k]).flatten() for k in ddp]).norm()
    moved = torch.cat([(one[k] - start[k]).flatten() for k in ddp]).norm()
    assert moved > 0 and gap < 1e-4 * moved, (float(gap), float(moved))


def test_a_failing_rank_ends_the_job_with_a_message(npz, tmp_path):
    (tmp_path / "flaky_data.py").write_text(textwrap.dedent('''
        import os, torch
        from ganaug.errors import DataError
        def load():
            if os.environ.get("RANK") == "1":
                raise DataError("rank 1 cannot read its data (simulated)")
            return torch.utils.data.TensorDataset(torch.zeros(16, 1, 8, 8), torch.arange(16) % 2)
    '''))
    started = time.time()
    result = torchrun("-m", "ganaug", "train", "flaky_data:load", "--model", "test_cdcgan", "--steps", "50",
                      "--batch-size", "4", "--out", str(tmp_path / "run"), "--device", "cpu", timeout=180,
                      env={"PYTHONPATH": str(tmp_path), "GANAUG_DIST_TIMEOUT": "60"})
    assert result.returncode != 0
    assert "rank 1 cannot read its data (simulated)" in result.stdout + result.stderr
    assert time.time() - started < 150


def test_nproc_shortcut(npz, tmp_path):
    from click.testing import CliRunner  # noqa: F401  (the shortcut re-executes through torchrun)

    result = subprocess.run([sys.executable, "-m", "ganaug", "train", str(npz), "--model", "test_cdcgan", "--steps",
                             "4", "--batch-size", "8", "--out", str(tmp_path / "run"), "--device", "cpu", "--nproc",
                             "2"], capture_output=True, text=True, timeout=240,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained TrainedGenerator") == 1  # rank 0 reports
    meta = json.loads((ganaug.runs.checkpoint.checkpoint_dirs(tmp_path / "run")[0] / "meta.json").read_text())
    assert meta["world_size"] == 2


def test_only_torchruns_environment_asks_for_distributed_training(monkeypatch):
    from ganaug.train import distributed

    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")  # what PyTorch Lightning's DDP launcher sets in the second process
    assert not distributed.requested()
    monkeypatch.setenv("RANK", "1")  # torchrun sets RANK too
    assert distributed.requested()


def test_the_launcher_names_the_ranks_that_failed_apart_from_those_it_stopped():
    from ganaug.train.launcher import failure_line

    assert failure_line({0: 1, 1: 1}) == ("training stopped because rank 0 (exit status 1), rank 1 (exit status 1) "
                                          "failed; their messages are above")
    assert failure_line({0: -15, 1: 1}) == ("training stopped because rank 1 (exit status 1) failed; their messages "
                                            "are above; the launcher then stopped rank 0")
    assert failure_line({0: -9}) == "training stopped because rank 0 (exit status -9) failed; their messages are above"


def test_main_rank_first_raises_rank_0s_own_error_in_a_single_process():
    from ganaug.errors import RunFolderBusyError
    from ganaug.train.distributed import main_rank_first

    calls = []
    main_rank_first(None, lambda: calls.append(1))
    assert calls == [1]

    def refuse():
        raise RunFolderBusyError("busy")

    with pytest.raises(RunFolderBusyError, match="busy"):
        main_rank_first(None, refuse)
