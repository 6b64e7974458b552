"""PyTorch Lightning: the bank refreshes every epoch, and a mis-sharded MixedBatchSampler is named."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

import ganaug
from ganaug import MixedBatchSampler, SyntheticMix
from ganaug.testing import make_tiny_data

pl = pytest.importorskip("pytorch_lightning", reason="pip install 'ganaug[lightning]' (make test installs it)")
from ganaug.integrations.lightning import SyntheticMixCallback  # noqa: E402


class TinyClassifier(pl.LightningModule):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, num_classes))
        self.banks: list[torch.Tensor] = []

    def training_step(self, batch, batch_index):
        images, labels = batch
        return torch.nn.functional.cross_entropy(self.net(images.float() / 255), labels)

    def on_train_epoch_start(self) -> None:
        mix = self.trainer.train_dataloader.dataset
        self.banks.append(mix.bank.clone())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.fixture(scope="module")
def mix_parts():
    store = make_tiny_data(num_classes=3, per_class=8)
    generator = ganaug.fit(store, "test_cdcgan", steps=2, batch_size=8, progress=False)
    return store, generator


def _trainer(callbacks, epochs=3):
    return pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, callbacks=callbacks, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)


def test_the_callback_refreshes_the_bank_each_epoch_of_a_real_trainer(mix_parts):
    store, generator = mix_parts
    mix = SyntheticMix(store, generator, ratio=0.5, fidelity=None)
    model = TinyClassifier(store.num_classes)
    _trainer([SyntheticMixCallback(mix)]).fit(model, DataLoader(mix, batch_size=8, shuffle=True))
    assert mix.epoch == 2
    assert len(model.banks) == 3 and not torch.equal(model.banks[0], model.banks[1])

    unrefreshed = SyntheticMix(store, generator, ratio=0.5, fidelity=None)
    model = TinyClassifier(store.num_classes)
    _trainer([]).fit(model, DataLoader(unrefreshed, batch_size=8, shuffle=True))
    assert torch.equal(model.banks[0], model.banks[2]), "without the callback Lightning never refreshes the bank"


def test_a_mixed_batch_sampler_refreshes_under_lightning_and_is_checked(mix_parts):
    store, generator = mix_parts
    mix = SyntheticMix(store, generator, ratio=0.5, fidelity=None)
    sampler = MixedBatchSampler(mix, batch_size=8)
    model = TinyClassifier(store.num_classes)
    _trainer([SyntheticMixCallback(mix)], epochs=2).fit(model, DataLoader(mix, batch_sampler=sampler))
    assert mix.epoch == 1

    sharded = MixedBatchSampler(mix, batch_size=4, num_replicas=2, rank=1)
    with pytest.raises(ganaug.ConfigError, match=r"num_replicas=2, rank=1\) under a Trainer with world_size=1"):
        _trainer([SyntheticMixCallback(mix)], epochs=1).fit(TinyClassifier(store.num_classes),
                                                           DataLoader(mix, batch_sampler=sharded))
    with pytest.raises(ganaug.ConfigError, match="needs a ganaug.SyntheticMix"):
        SyntheticMixCallback(store)


def test_without_the_callback_lightning_never_moves_a_mixed_batch_sampler_to_the_next_epoch(mix_parts):
    """Lightning calls ``set_epoch`` on a DataLoader's sampler, not on its batch sampler: what the callback is
    for (documented in docs/integrations.md; if Lightning starts doing it, this test says so)."""
    store, generator = mix_parts
    mix = SyntheticMix(store, generator, ratio=0.5, fidelity=None)
    model = TinyClassifier(store.num_classes)
    _trainer([], epochs=2).fit(model, DataLoader(mix, batch_sampler=MixedBatchSampler(mix, batch_size=8)))
    assert mix.epoch == 0 and len(model.banks) == 2 and torch.equal(model.banks[0], model.banks[1])


DDP_SCRIPT = '''
import hashlib, json, sys
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader
import ganaug
from ganaug.integrations.lightning import SyntheticMixCallback
from ganaug.testing import make_tiny_data

torch.set_num_threads(1)
store = make_tiny_data(num_classes=3, per_class=8)
generator = ganaug.fit(store, "test_cdcgan", steps=2, batch_size=8, progress=False)
mix = ganaug.SyntheticMix(store, generator, ratio=0.5, fidelity=None, seed=3)
record = {"batches": {}, "banks": {}}


class Recording(ganaug.MixedBatchSampler):
    def __iter__(self):
        record["banks"][self.epoch] = hashlib.sha256(self.mix.bank.numpy().tobytes()).hexdigest()
        for batch in super().__iter__():
            record["batches"].setdefault(self.epoch, []).extend(batch)
            yield batch


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(64, 3)

    def training_step(self, batch, batch_index):
        images, labels = batch
        return torch.nn.functional.cross_entropy(self.net(images.flatten(1).float() / 255), labels)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


trainer = pl.Trainer(strategy="ddp", accelerator="cpu", devices=2, max_epochs=2, use_distributed_sampler=False,
                     callbacks=[SyntheticMixCallback(mix)], logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False)
sampler = Recording(mix, batch_size=4, num_replicas=trainer.world_size, rank=trainer.global_rank)
trainer.fit(Tiny(), DataLoader(mix, batch_sampler=sampler))
record.update(rank=trainer.global_rank, world_size=trainer.world_size, epoch=mix.epoch)
with open(f"{sys.argv[1]}/rank{trainer.global_rank}.json", "w") as handle:
    json.dump(record, handle)
'''


def test_under_lightning_ddp_each_rank_keeps_its_shard_and_the_banks_agree_and_refresh(tmp_path):
    import json
    import subprocess
    import sys

    script = tmp_path / "ddp_mix.py"
    script.write_text(DDP_SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(tmp_path)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    assert {r["epoch"] for r in ranks} == {1}
    for epoch in ("0", "1"):
        zero, one = (set(r["batches"][epoch]) for r in ranks)
        assert zero and one and not zero & one, "the ranks must draw disjoint items"
        assert ranks[0]["banks"][epoch] == ranks[1]["banks"][epoch], "every rank must hold the same bank"
    assert ranks[0]["banks"]["0"] != ranks[0]["banks"]["1"], "the bank must refresh between epochs"
    assert ranks[0]["batches"]["0"] != ranks[0]["batches"]["1"], "each epoch must draw a new batch order"
