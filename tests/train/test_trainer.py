"""Training: every registered generator trains on CPU; run folders, logs, checkpoints, exact resume."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

import ganaug
from ganaug import ConfigError, TrainingDivergedError, fit, list_generators
from ganaug.data import ImageStore
from ganaug.runs.checkpoint import checkpoint_dirs, encode_bytes
from ganaug.storage import seal_meta
from ganaug.train.config import TrainConfig
from ganaug.train.trainer import Trainer

FAST = {"progress": False, "batch_size": 16}


@pytest.mark.parametrize("model", list_generators())
def test_every_registered_generator_trains_a_few_steps(model, tiny_store, device):
    overrides = {"g_channels": 8, "d_channels": 8} if model == "cdcgan" else {}
    generator = fit(tiny_store, model, steps=3, device=device, **FAST, **overrides)
    images = generator.sample(per_class=2)
    assert images.shape == (8, 1, 8, 8) and images.dtype == torch.uint8


def test_run_folder_contents(tiny_store, tmp_path):
    out = tmp_path / "run"
    fit(tiny_store, "test_cdcgan", steps=6, out=out, checkpoint_every=3, sample_every=3, log_every=2, **FAST)
    assert (out / "config.json").exists()
    assert (out / "samples" / "grid_00000003.png").exists() and (out / "samples" / "grid_final.png").exists()
    assert [p.name for p in checkpoint_dirs(out)] == ["step_00000006", "step_00000003"]
    assert (out / "generator" / "generator.safetensors").exists()
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    losses = [r for r in records if "loss_d" in r]
    assert [r["step"] for r in losses] == [2, 4, 6]
    for key in ("loss_g", "grad_norm_d", "grad_norm_g", "images_per_s"):
        assert all(math.isfinite(r[key]) for r in losses), key
    scores = [r for r in records if "diversity_ratio" in r]
    assert len(scores) == 2 and len(scores[0]["diversity_ratio"]) == 4
    # what the scoring cost: per scoring, the judge's fit once, and the whole against the run at the end
    assert all(r["score_seconds"] > 0 for r in scores)
    assert scores[0]["judge_seconds"] > 0 and "judge_seconds" not in scores[1]
    final = scores[-1]
    assert final["scoring_seconds"] >= scores[0]["judge_seconds"] + sum(r["score_seconds"] for r in scores) - 0.01
    assert final["run_seconds"] >= final["scoring_seconds"]
    assert final["scoring_share"] == pytest.approx(final["scoring_seconds"] / final["run_seconds"], abs=1e-3)
    assert "scoring_share" not in scores[0]


def _state(generator):
    return {k: v.clone() for k, v in generator.gan.state_dict().items()}


@pytest.mark.parametrize("model", ["test_cdcgan", "dcgan", "test_img2img"])
def test_resume_equals_uninterrupted_run(model, tiny_store, tmp_path):
    straight = fit(tiny_store, model, steps=8, out=tmp_path / "a", checkpoint_every=4, **FAST)
    fit(tiny_store, model, steps=4, out=tmp_path / "b", checkpoint_every=4, **FAST)
    resumed = fit(tiny_store, model, steps=8, out=tmp_path / "b", resume=True, checkpoint_every=4, **FAST)
    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_the_trained_generator_samples_exactly_what_its_saved_copy_samples(tiny_store, tmp_path):
    # training keeps channels-last weights; the returned generator must not round differently from the loaded one
    generator = fit(tiny_store, "cdcgan", steps=3, out=tmp_path / "run", channels_last=True, **FAST)
    loaded = ganaug.load(tmp_path / "run" / "generator")
    assert all(p.is_contiguous() for p in generator.network.parameters())
    assert torch.equal(generator.sample(per_class=64, seed=1), loaded.sample(per_class=64, seed=1))


def test_same_seed_same_weights_other_seed_differs(tiny_store):
    a = _state(fit(tiny_store, "test_cdcgan", steps=3, seed=1, **FAST))
    b = _state(fit(tiny_store, "test_cdcgan", steps=3, seed=1, **FAST))
    c = _state(fit(tiny_store, "test_cdcgan", steps=3, seed=2, **FAST))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_fit_does_not_disturb_global_rng(tiny_store):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit(tiny_store, "test_cdcgan", steps=2, **FAST)
    assert torch.equal(torch.rand(3), expected)


def test_existing_run_needs_resume(tiny_store, tmp_path):
    fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, **FAST)
    with pytest.raises(ConfigError, match="already holds checkpoints.*resume=True"):
        fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, **FAST)


def test_resume_refuses_other_data(tiny_store, tmp_path):
    fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, **FAST)
    other = ImageStore(tiny_store.images, tiny_store.labels, ["w", "x", "y", "z"])
    with pytest.raises(ganaug.CheckpointError, match="trained on classes"):
        fit(other, "test_cdcgan", steps=4, out=tmp_path, resume=True, **FAST)


def test_resume_on_another_kind_of_device_restarts_the_noise_stream(tiny_store, tmp_path):
    # A checkpoint written on CUDA holds a 16-byte Philox noise state that a CPU generator cannot take.
    fit(tiny_store, "test_cdcgan", steps=3, out=tmp_path, **FAST)
    meta_path = checkpoint_dirs(tmp_path)[0] / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["rng_noise"] = encode_bytes(torch.zeros(16, dtype=torch.uint8))
    meta_path.write_text(json.dumps(seal_meta(meta)))  # an edit on purpose: re-seal its checksum
    with pytest.warns(UserWarning, match="noise stream was saved on another kind of device"):
        resumed = fit(tiny_store, "test_cdcgan", steps=5, out=tmp_path, resume=True, **FAST)
    assert [p.name for p in checkpoint_dirs(tmp_path)][0] == "step_00000005"
    assert resumed.sample(per_class=1).shape[0] == tiny_store.num_classes


def test_bad_config_values(tiny_store):
    with pytest.raises(ConfigError, match="batch_size=0"):
        fit(tiny_store, "test_cdcgan", steps=2, batch_size=0, progress=False)
    with pytest.raises(ConfigError, match="resume=True needs out="):
        fit(tiny_store, "test_cdcgan", steps=2, resume=True, progress=False)
    with pytest.raises(ConfigError, match="unknown option.*learning_rate"):
        fit(tiny_store, "test_cdcgan", steps=2, learning_rate=1.0, progress=False)


def _poison_generator_loss(monkeypatch, bad_calls):
    from ganaug.plugins.builtin.cdcgan import CDCGAN

    original = CDCGAN.generator_loss
    calls = {"n": 0}

    def poisoned(self, fake, z, labels):
        calls["n"] += 1
        loss = original(self, fake, z, labels)
        return loss * float("nan") if bad_calls(calls["n"]) else loss

    monkeypatch.setattr(CDCGAN, "generator_loss", poisoned)


def test_nan_loss_rolls_back_lowers_lr_and_goes_on(tiny_store, tmp_path, monkeypatch):
    _poison_generator_loss(monkeypatch, lambda n: n == 5)
    with pytest.warns(UserWarning, match=r"diverged at step 5 .*rolled back to step 4 .*learning rates by 0.5"):
        generator = fit(tiny_store, "test_cdcgan", steps=8, out=tmp_path, checkpoint_every=2, **FAST)
    assert all(torch.isfinite(v).all() for v in generator.gan.state_dict().values() if v.is_floating_point())
    events = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert {"step": 4, "event": "rollback", "diverged_at": 5, "lr_scale": 0.5} in events
    meta = json.loads((checkpoint_dirs(tmp_path)[0] / "meta.json").read_text())
    assert meta["lr_scale"] == 0.5 and meta["opt_g"]["param_groups"][0]["lr"] == pytest.approx(0.5 * 2e-4)


def test_repeated_divergence_stops_after_k_rollbacks(tiny_store, tmp_path, monkeypatch):
    _poison_generator_loss(monkeypatch, lambda n: n >= 5)
    with pytest.warns(UserWarning, match="rolled back"):
        with pytest.raises(TrainingDivergedError, match=r"after 2 rollback\(s\).*Last good checkpoint: .*step_00000004"):
            fit(tiny_store, "test_cdcgan", steps=10, out=tmp_path, checkpoint_every=2, max_rollbacks=2, **FAST)
    assert checkpoint_dirs(tmp_path)[0].name == "step_00000004"


def test_nan_weight_is_caught_even_when_losses_are_finite(tiny_store, monkeypatch):
    import ganaug.train.trainer as train_module

    original = train_module.update_ema
    calls = {"n": 0}

    def poisoned(ema, model, decay):
        calls["n"] += 1
        original(ema, model, decay)
        if calls["n"] == 3:
            next(ema.parameters()).data.fill_(float("inf"))  # EMA weights never feed the losses

    monkeypatch.setattr(train_module, "update_ema", poisoned)
    with pytest.warns(UserWarning, match=r"diverged .*\(a weight is NaN or inf\); rolled back to step 0"):
        generator = fit(tiny_store, "test_cdcgan", steps=4, log_every=4, **FAST)
    assert all(torch.isfinite(p).all() for p in generator.gan.parameters())


def test_mode_collapse_warning(tiny_store, monkeypatch):
    from ganaug.plugins.builtin.cdcgan import CDCGANGenerator

    original = CDCGANGenerator.forward
    monkeypatch.setattr(CDCGANGenerator, "forward", lambda self, z, labels: original(self, z * 0, labels))
    collapsed = "'class0', 'class1', 'class2', 'class3'"
    with pytest.warns(UserWarning, match=rf"possible mode collapse at step 3: samples of class\(es\) {collapsed}"):
        fit(tiny_store, "test_cdcgan", steps=3, collapse_warning_after=0, **FAST)


def test_unwritable_out_and_full_disk_are_refused_before_training(tiny_store, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot write to the output folder"):
        fit(tiny_store, "test_cdcgan", steps=1, out=blocker / "run", **FAST)
    import ganaug.runs.folder as run_folder_module

    real_usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(run_folder_module.shutil, "disk_usage", lambda path: real_usage._replace(free=1000))
    with pytest.raises(ConfigError, match=r"only 1000.0 B free .*one checkpoint needs about"):
        fit(tiny_store, "test_cdcgan", steps=1, out=tmp_path / "run", **FAST)
    assert not checkpoint_dirs(tmp_path / "run")


def test_batch_size_none_means_64_on_the_cpu_with_the_family_learning_rates(tiny_store, tmp_path):
    fit(tiny_store, "test_cdcgan", steps=1, out=tmp_path, progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    family = ganaug.plugins.registry.default_registry().generator("test_cdcgan").make_config()
    assert saved["train"]["batch_size"] == 64
    assert (saved["model"]["lr_g"], saved["model"]["lr_d"]) == (family.lr_g, family.lr_d)


def test_the_default_batch_depends_on_the_device_and_keeps_the_learning_rates(tiny_store, monkeypatch):
    import ganaug.train.trainer as train_module

    assert train_module.default_batch_size(torch.device("cuda")) == 512
    assert train_module.default_batch_size(torch.device("cpu")) == 64
    monkeypatch.setattr(train_module, "default_batch_size", lambda device: 256)  # as on a GPU
    family = ganaug.plugins.registry.default_registry().generator("test_cdcgan").make_config()
    auto = Trainer(tiny_store, TrainConfig(model="test_cdcgan"), {})
    assert auto.config.batch_size == 256
    assert (auto.model_config["lr_g"], auto.model_config["lr_d"]) == (family.lr_g, family.lr_d)
    assert Trainer(tiny_store, TrainConfig(model="test_cdcgan", batch_size=16), {}).config.batch_size == 16


def test_resuming_an_auto_batch_run_elsewhere_keeps_its_batch_quietly(tiny_store, tmp_path, monkeypatch):
    import warnings

    import ganaug.train.trainer as train_module

    monkeypatch.setattr(train_module, "default_batch_size", lambda device: 32)  # "the GPU run"
    fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, checkpoint_every=1, progress=False)
    monkeypatch.setattr(train_module, "default_batch_size", lambda device: 64)  # resumed "on the CPU"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(tiny_store, "test_cdcgan", steps=3, out=tmp_path, resume=True, progress=False)
    assert json.loads((tmp_path / "config.json").read_text())["train"]["batch_size"] == 32


def test_unknown_compile_mode_is_refused(tiny_store):
    with pytest.raises(ConfigError, match="compile='fast' is not one of 'off', 'default'"):
        fit(tiny_store, "test_cdcgan", steps=1, compile="fast", **FAST)


@pytest.mark.skipif(not (shutil.which("c++") or shutil.which("g++")),
                    reason="torch.compile on the CPU needs a C++ compiler")
def test_compiled_training_matches_eager_and_saves_plain_weights(tiny_store, tmp_path):
    losses = {}
    for mode in ("off", "default"):
        out = tmp_path / mode
        generator = fit(tiny_store, "test_cdcgan", steps=4, out=out, log_every=1, checkpoint_every=2,
                        compile=mode, **FAST)
        records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        losses[mode] = torch.tensor([[r["loss_d"], r["loss_g"]] for r in records if "loss_d" in r])
        assert not any("_orig_mod" in key for key in generator.gan.state_dict())
        assert ganaug.load(out / "generator").sample(per_class=1).shape[0] == tiny_store.num_classes
    assert torch.allclose(losses["default"], losses["off"], rtol=1e-3, atol=1e-4), losses
    resumed = fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path / "default", resume=True, compile="default",
                  **FAST)
    assert resumed.sample(per_class=1).shape[0] == tiny_store.num_classes


def test_the_fidelity_judge_is_a_training_option(monkeypatch):
    from ganaug.metrics import fidelity
    from ganaug.testing import make_tiny_data
    from ganaug.train import monitor

    kinds = []

    class Recording(fidelity.FidelityJudge):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            kinds.append(self.kind)

    monkeypatch.setattr(monitor, "FidelityJudge", Recording)
    store = make_tiny_data((1, 16, 16), num_classes=3, per_class=6)
    fit(store, "test_cdcgan", steps=1, judge="pixels", **FAST)
    assert kinds == ["pixels"]  # 16 px would get the CNN under "auto"
    with pytest.raises(ConfigError, match="judge"):
        fit(store, "test_cdcgan", steps=1, judge="eyes", **FAST)
