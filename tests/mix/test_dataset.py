"""SyntheticMix and MixedBatchSampler: counts under every policy, determinism, formats, sharding, a real loop."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset

import ganaug
from ganaug import ConfigError, DataError, MixedBatchSampler, SyntheticMix
from ganaug.mix.policies import allocate_synthetic, synthetic_count


class FormatDataset(Dataset):
    """The tiny store served as PIL images, HWC arrays, or float tensors in [0, 1]."""

    def __init__(self, store, form, keep=None):
        self.store, self.form = store, form
        self.index = list(range(len(store))) if keep is None else keep
        self.targets = [int(store.labels[i]) for i in self.index]
        self.classes = store.classes

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        image = self.store.images[self.index[i]]
        if self.form == "pil":
            image = Image.fromarray(image[0].numpy())
        elif self.form == "ndarray":
            image = image.permute(1, 2, 0).numpy()
        elif self.form == "float":
            image = image.float() / 255.0
        return image, self.targets[i]


def tensor_dataset(store):
    return TensorDataset(store.images, store.labels)


# -- counts ---------------------------------------------------------------------------------------

counts_strategy = st.lists(st.integers(min_value=0, max_value=60), min_size=2, max_size=8).filter(lambda c: sum(c) > 0)


@settings(max_examples=200, deadline=None)
@given(counts=counts_strategy, ratio=st.floats(min_value=0.0, max_value=0.95),
       policy=st.sampled_from(["match", "uniform", "balance", "tail"]))
def test_synthetic_total_follows_ratio(counts, ratio, policy):
    per_class = allocate_synthetic(counts, ratio, policy, top_up_below=61)  # counts are at most 60: all are rare
    total = sum(per_class)
    assert total == synthetic_count(sum(counts), ratio)
    assert all(c >= 0 for c in per_class)
    if sum(counts) + total:
        assert abs(total / (sum(counts) + total) - ratio) <= 0.5 / (sum(counts) + total) / (1 - ratio) + 1e-9


@settings(max_examples=200, deadline=None)
@given(counts=counts_strategy, ratio=st.floats(min_value=0.0, max_value=0.95))
def test_match_follows_real_proportions_and_uniform_is_flat(counts, ratio):
    total = synthetic_count(sum(counts), ratio)
    match = allocate_synthetic(counts, ratio, "match")
    for k, c in enumerate(counts):
        assert abs(match[k] - total * c / sum(counts)) < 1.0
    uniform = allocate_synthetic(counts, ratio, "uniform")
    assert max(uniform) - min(uniform) <= 1


@settings(max_examples=200, deadline=None)
@given(counts=counts_strategy, ratio=st.one_of(st.none(), st.floats(min_value=0.0, max_value=0.95)))
def test_balance_levels_the_rare_classes(counts, ratio):
    per_class = allocate_synthetic(counts, ratio, "balance")
    totals = [c + s for c, s in zip(counts, per_class)]
    if ratio is None:
        assert totals == [max(counts)] * len(counts)
    else:
        # water filling: a class only receives images while it is among the lowest
        lowest_untouched = min((c for c, s in zip(counts, per_class) if s == 0), default=None)
        receivers = [t for t, s in zip(totals, per_class) if s > 0]
        if receivers and lowest_untouched is not None:
            assert max(receivers) <= lowest_untouched + 1
        assert max(receivers, default=0) - min(receivers, default=0) <= 1


def test_mix_counts_and_sources(store, generator):
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0.2, return_source=True)
    assert (len(mix), mix.n_real, mix.n_synthetic) == (100, 80, 20)
    assert sum(1 for i in range(len(mix)) if mix[i][2]) == 20
    assert mix.class_counts()["class0"] == {"real": 20, "synthetic": 5, "repeated": 0, "total": 25}
    assert SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0).n_synthetic == 0


def test_balance_tops_up_an_imbalanced_set(store, generator):
    keep = [i for i in range(80) if store.labels[i] != 3 or i % 10 == 0]  # class3: 2 images
    real = FormatDataset(store, "tensor", keep)
    mix = SyntheticMix(real, generator, fidelity=None, ratio=None, class_policy="balance", max_per_real=None)
    assert {name: c["total"] for name, c in mix.class_counts().items()} == {f"class{k}": 20 for k in range(4)}
    assert mix.class_counts()["class3"]["synthetic"] == 18
    capped = SyntheticMix(real, generator, fidelity=None, ratio=None, class_policy="balance")  # max_per_real=4
    assert capped.class_counts()["class3"] == {"real": 2, "synthetic": 8, "repeated": 0, "total": 10}


def test_dict_policy_by_name_and_index(store, generator):
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, class_policy={"class1": 3, 3: 2})
    assert mix.synthetic_labels.tolist() == [1, 1, 1, 3, 3]
    with pytest.raises(ConfigError, match="unknown class 'zebra'"):
        SyntheticMix(tensor_dataset(store), generator, fidelity=None, class_policy={"zebra": 3})


def test_synthetic_only(store, generator):
    with pytest.raises(ConfigError, match="synthetic_only=True"):
        SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=1.0)
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=1.0, synthetic_only=True)
    assert (mix.n_real, mix.n_synthetic) == (0, 80)


# -- determinism ------------------------------------------------------------------------------


def _collect(mix, batch_size, workers):
    loader = DataLoader(mix, batch_size=batch_size, num_workers=workers, shuffle=False,
                        persistent_workers=workers > 0)
    out = {}
    for epoch in (0, 1):
        mix.set_epoch(epoch)
        out[epoch] = torch.cat([images for images, _ in loader])
    return out


def test_items_do_not_depend_on_workers_or_batch_size(store, generator):
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0.5, seed=3)
    reference = _collect(mix, 7, 0)
    for batch_size, workers in ((32, 0), (5, 2)):
        other = _collect(SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0.5, seed=3), batch_size, workers)
        assert all(torch.equal(reference[e], other[e]) for e in (0, 1))
    assert not torch.equal(reference[0][80:], reference[1][80:])  # refresh="epoch" draws a new bank
    assert torch.equal(reference[0][:80], reference[1][:80])  # real items untouched


def test_refresh_never_and_bank_size(store, generator):
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0.5, refresh="never", bank_size=8)
    first = torch.stack([mix[i][0] for i in range(80, 160)])
    mix.set_epoch(5)
    assert torch.equal(first, torch.stack([mix[i][0] for i in range(80, 160)]))
    assert len(mix.bank) == 8 and len({tuple(x.flatten().tolist()) for x in first}) <= 8
    labels = [int(mix[i][1]) for i in range(80, 160)]
    assert sorted(set(labels)) == [0, 1, 2, 3]


# -- formats and transforms -------------------------------------------------------------------


@pytest.mark.parametrize("form", ["pil", "ndarray", "tensor", "float"])
def test_synthetic_items_take_the_real_items_form(store, generator, form):
    mix = SyntheticMix(FormatDataset(store, form), generator, fidelity=None, ratio=0.5)
    real, synthetic = mix[0][0], mix[len(mix) - 1][0]
    assert type(real) is type(synthetic)
    if form == "pil":
        assert (synthetic.mode, synthetic.size) == (real.mode, real.size)
    else:
        assert synthetic.shape == real.shape and synthetic.dtype == real.dtype
    if form == "float":
        assert 0.0 <= float(synthetic.min()) and float(synthetic.max()) <= 1.0


def test_albumentations_transform_applies_to_both_kinds(store, generator):
    transform = A.Compose([A.HorizontalFlip(p=1.0)], seed=0)
    plain = SyntheticMix(FormatDataset(store, "ndarray"), generator, fidelity=None, ratio=0.5, seed=1)
    flipped = SyntheticMix(FormatDataset(store, "ndarray"), generator, fidelity=None, ratio=0.5, seed=1, transform=transform)
    for index in (0, len(plain) - 1):
        assert np.array_equal(flipped[index][0], plain[index][0][:, ::-1])


def test_random_transforms_are_seeded_per_item_and_epoch(store, generator):
    """A random transform changes items, the same (epoch, index) always gives the same image, and a new
    epoch draws new transforms; ``refresh="never"`` keeps the bank, so only the transform can differ."""
    transform = A.Compose([A.Affine(translate_px=(-2, 2), p=1.0)], seed=0)
    plain = SyntheticMix(FormatDataset(store, "ndarray"), generator, fidelity=None, ratio=0.5, refresh="never")
    mix = SyntheticMix(FormatDataset(store, "ndarray"), generator, fidelity=None, ratio=0.5, refresh="never", transform=transform)
    n = len(mix)
    assert n == len(plain) == 160

    def images(dataset, order):
        return {i: dataset[i][0] for i in order}

    epoch0 = images(mix, range(n))
    again = images(mix, reversed(range(n)))  # another order: per-item seeds, not a shared random stream
    assert all(np.array_equal(epoch0[i], again[i]) for i in range(n))

    untransformed = images(plain, range(n))
    changed = sum(not np.array_equal(epoch0[i], untransformed[i]) for i in range(n))
    assert changed >= 0.8 * n, f"the transform changed only {changed} of {n} items"

    mix.set_epoch(1)
    epoch1 = images(mix, range(n))
    moved = sum(not np.array_equal(epoch0[i], epoch1[i]) for i in range(n))
    assert moved >= 0.8 * n, f"only {moved} of {n} items got a new transform at epoch 1"
    assert all(np.array_equal(epoch1[i], mix[i][0]) for i in (0, 79, 80, n - 1))

    mix.set_epoch(0)
    assert all(np.array_equal(epoch0[i], mix[i][0]) for i in range(n))


# -- bad input --------------------------------------------------------------------------------


def test_bad_inputs(store, generator):
    ds = tensor_dataset(store)
    with pytest.raises(ConfigError, match=r"ratio=1.5 must be a number in \[0, 1\)"):
        SyntheticMix(ds, generator, fidelity=None, ratio=1.5)
    with pytest.raises(ConfigError, match="ratio=None needs class_policy='balance'"):
        SyntheticMix(ds, generator, fidelity=None, ratio=None, class_policy="match")
    with pytest.raises(ConfigError, match="oversample='yes'"):
        SyntheticMix(ds, generator, fidelity=None, oversample="yes")
    two_classes = ganaug.ImageStore(store.images[:40], store.labels[:40], ["a", "b"])
    other = ganaug.fit(two_classes, "test_cdcgan", steps=1, batch_size=8, progress=False)
    with pytest.raises(DataError, match=r"real label 2 \(item 40\) is outside the generator's classes 0..1"):
        SyntheticMix(ds, other, fidelity=None)
    wrong_shape = TensorDataset(torch.zeros(8, 3, 8, 8, dtype=torch.uint8), torch.arange(8) % 4)
    with pytest.raises(DataError, match=r"shape \(3, 8, 8\) but the generator makes"):
        SyntheticMix(wrong_shape, generator, fidelity=None)
    normalised = TensorDataset((store.images.float() / 255 - 0.13) / 0.3, store.labels)
    with pytest.raises(DataError, match="looks normalised"):
        SyntheticMix(normalised, generator, fidelity=None)

    class NoLabels(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return store.images[i], int(store.labels[i])

    class ImagesOnly(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return store.images[i]

    with pytest.raises(DataError, match=r"item 0 of ImagesOnly is not an \(image, label\) pair or a dict \(Tensor\); pass labels="):
        SyntheticMix(ImagesOnly(), generator, fidelity=None)
    assert SyntheticMix(NoLabels(), generator, fidelity=None).real_labels == store.labels[:4].tolist()
    assert len(SyntheticMix(NoLabels(), generator, fidelity=None, labels=[0, 0, 0, 0], ratio=0.5)) == 8


# -- batches and sharding -----------------------------------------------------------------------


def test_distributed_sampler_partitions_the_mix(store, generator):
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0.5)
    shards = [list(DistributedSampler(mix, num_replicas=3, rank=r, shuffle=True, seed=1, drop_last=True))
              for r in range(3)]
    seen = [i for shard in shards for i in shard]
    assert len(seen) == len(set(seen)) == len(mix) // 3 * 3
    assert int(mix.is_synthetic()[seen].sum()) >= mix.n_synthetic - 2  # drop_last leaves out at most 2 items
    sampler = DistributedSampler(mix, num_replicas=3, rank=1, shuffle=True, seed=1, drop_last=True)
    images, labels = next(iter(DataLoader(mix, sampler=sampler, batch_size=len(shards[1]))))
    assert torch.equal(images, torch.stack([mix[i][0] for i in shards[1]]))  # rank 1 loads its own items
    assert labels.tolist() == [mix[i][1] for i in shards[1]]


@pytest.mark.parametrize("replicas", [1, 2])
def test_mixed_batch_sampler_exact_share_in_every_batch(store, generator, replicas):
    mix = SyntheticMix(tensor_dataset(store), generator, fidelity=None, ratio=0.25)
    samplers = [MixedBatchSampler(mix, 8, num_replicas=replicas, rank=r, seed=2) for r in range(replicas)]
    batches = [b for s in samplers for b in s]
    assert all(sum(i >= mix.n_real for i in b) == 2 and len(b) == 8 for b in batches)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    assert len(samplers[0]) == len(list(samplers[0]))
    loader = DataLoader(mix, batch_sampler=samplers[0])
    assert next(iter(loader))[0].shape == (8, 1, 8, 8)


def test_user_training_loop_on_a_mix(store, generator):
    """What a user does: wrap the dataset, keep the loop."""
    torch.manual_seed(0)
    train_set = SyntheticMix(FormatDataset(store, "float"), generator, fidelity=None, ratio=0.3)
    loader = DataLoader(train_set, batch_size=16, shuffle=True)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for images, labels in loader:
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert len(losses) == -(-len(train_set) // 16) and all(np.isfinite(losses))


def test_a_plain_dataset_without_targets_has_its_labels_read_by_iterating_once(tiny_generator):
    from PIL import Image

    class PlainPIL(torch.utils.data.Dataset):  # what most users have: (PIL image, int), no .targets
        def __init__(self):
            self.reads = 0

        def __len__(self):
            return 12

        def __getitem__(self, index):
            self.reads += 1
            return Image.fromarray(np.full((8, 8), index * 10, dtype=np.uint8)), index % 3

    plain = PlainPIL()
    mix = SyntheticMix(plain, tiny_generator, ratio=0.5, fidelity=None)
    assert mix.real_labels == [i % 3 for i in range(12)]
    assert plain.reads >= 12
    image, label = mix[len(mix) - 1]
    assert isinstance(image, Image.Image) and isinstance(label, int)
    given = PlainPIL()
    SyntheticMix(given, tiny_generator, ratio=0.5, fidelity=None, labels=[i % 3 for i in range(12)])
    assert given.reads < 12, "labels= skips the pass"


def test_dict_items_are_read_and_synthetic_items_come_back_as_dicts(tiny_generator):
    class HFStyle(torch.utils.data.Dataset):  # the form of a Hugging Face datasets item, with another key
        def __len__(self):
            return 12

        def __getitem__(self, index):
            return {"img": Image.fromarray(np.full((8, 8), index * 10, dtype=np.uint8)), "fine_label": index % 4,
                    "id": f"row{index}"}

    mix = SyntheticMix(HFStyle(), tiny_generator, ratio=0.5, fidelity=None, return_source=True)
    real, synthetic = mix[0], mix[len(mix) - 1]
    assert real["id"] == "row0" and real["fine_label"] == 0 and real["is_synthetic"] is False
    assert set(synthetic) == {"img", "fine_label", "is_synthetic"} and synthetic["is_synthetic"] is True
    assert isinstance(synthetic["img"], Image.Image) and isinstance(synthetic["fine_label"], int)
    store = ganaug.load_data(HFStyle())
    assert store.labels.tolist() == [i % 4 for i in range(12)] and store.image_shape == (1, 8, 8)

    class OddKeys(HFStyle):
        def __getitem__(self, index):
            item = super().__getitem__(index)
            return {"picture": item["img"], "cls": item["fine_label"]}

    with pytest.raises(DataError, match=r"dicts with keys \['cls', 'picture'\].*item_keys="):
        SyntheticMix(OddKeys(), tiny_generator, ratio=0.5, fidelity=None)
    mix = SyntheticMix(OddKeys(), tiny_generator, ratio=0.5, fidelity=None, item_keys=("picture", "cls"))
    assert set(mix[len(mix) - 1]) == {"picture", "cls"}
    assert ganaug.load_data(OddKeys(), item_keys=("picture", "cls")).num_classes == 4


def test_torchvision_tv_tensors_images_stay_tv_tensors(tiny_generator):
    from torchvision import tv_tensors

    class TVImages(torch.utils.data.Dataset):
        targets = [i % 4 for i in range(12)]

        def __len__(self):
            return 12

        def __getitem__(self, index):
            return tv_tensors.Image(torch.full((1, 8, 8), index * 10, dtype=torch.uint8)), index % 4

    mix = SyntheticMix(TVImages(), tiny_generator, ratio=0.5, fidelity=None)
    real, synthetic = mix[0][0], mix[len(mix) - 1][0]
    assert type(real) is tv_tensors.Image and type(synthetic) is tv_tensors.Image
    assert synthetic.shape == (1, 8, 8) and synthetic.dtype == torch.uint8
