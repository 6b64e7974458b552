"""Test kit for plugin authors, loaded by pytest as a plugin (entry point ``pytest11``).

Fixtures:
    ganaug_registry: a fresh registry (installed plugins and built-ins, strict: a broken plugin fails
        the test instead of being skipped).
    ganaug_tiny_data: 24 tiny structured images of 3 classes, as an ``ImageStore``.

Contract: subclass :class:`GeneratorContract`, set ``generator_name`` (and, if needed,
``overrides``, ``image_shape``), and pytest runs the checks every generator must pass::

    from ganaug.testing import GeneratorContract

    class TestMyGAN(GeneratorContract):
        generator_name = "my-gan"
        overrides = {"width": 8}
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import torch

from ganaug.data import ImageStore
from ganaug.plugins.registry import Registry, build_registry


def make_tiny_data(image_shape: tuple[int, int, int] = (1, 8, 8), num_classes: int = 3, per_class: int = 8,
                   seed: int = 0) -> ImageStore:
    """Small images with a class-specific bright stripe plus noise; fast to train on."""
    channels, height, width = image_shape
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    images = (torch.rand(len(labels), channels, height, width, generator=generator) * 80).to(torch.uint8)
    for i, label in enumerate(labels.tolist()):
        row = (label * height) // num_classes
        images[i, :, row:row + max(1, height // num_classes)] += 150
    return ImageStore(images, labels, [f"class{k}" for k in range(num_classes)])


@pytest.fixture
def ganaug_registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A fresh plugin manager and registry, built strictly so a broken plugin fails loudly."""
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "1")
    return build_registry()


@pytest.fixture
def ganaug_tiny_data() -> ImageStore:
    return make_tiny_data()


class GeneratorContract:
    """Checks every generator family must pass: build, train a step on CPU, sample, seed, save/load."""

    generator_name: ClassVar[str] = ""
    """The registered name under test."""
    overrides: ClassVar[dict[str, Any]] = {}
    """Config overrides that make the family tiny enough to train in seconds."""
    image_shape: ClassVar[tuple[int, int, int]] = (1, 8, 8)
    num_classes: ClassVar[int] = 3

    @pytest.fixture
    def data(self) -> ImageStore:
        return make_tiny_data(self.image_shape, self.num_classes)

    @pytest.fixture
    def trained(self, data: ImageStore, ganaug_registry: Registry, tmp_path_factory: pytest.TempPathFactory):
        import ganaug

        out = tmp_path_factory.mktemp("contract-run")
        generator = ganaug.fit(data, self.generator_name, steps=2, batch_size=8, device="cpu", out=out,
                               progress=False, checkpoint_every=1, registry=ganaug_registry, **self.overrides)
        return generator, out

    def test_builds_from_the_registry(self, ganaug_registry: Registry) -> None:
        from ganaug import GAN, create_generator

        assert self.generator_name, "set generator_name on your GeneratorContract subclass"
        assert self.generator_name in ganaug_registry.generators or self.generator_name in ganaug_registry.aliases
        gan = create_generator(self.generator_name, num_classes=self.num_classes, image_shape=self.image_shape,
                               registry=ganaug_registry, **self.overrides)
        assert isinstance(gan, GAN)
        z = gan.sample_noise(4, device="cpu")
        labels = torch.arange(4) % self.num_classes
        real = torch.rand(4, *self.image_shape) * 2 - 1
        out = gan.generator(gan.generator_inputs(real, z), labels)  # generator_inputs is z for noise families
        assert out.shape == (4, *self.image_shape), "the generator must return (B, C, H, W)"
        assert out.min() >= -1.0 - 1e-4 and out.max() <= 1.0 + 1e-4, "generator output must lie in [-1, 1]"

    def test_one_training_step_changes_the_weights(self, data: ImageStore, ganaug_registry: Registry) -> None:
        import ganaug

        def weights_after(steps: int) -> dict[str, torch.Tensor]:
            trained = ganaug.fit(data, self.generator_name, steps=steps, batch_size=8, device="cpu",
                                 registry=ganaug_registry, progress=False, seed=0, **self.overrides)
            return trained.gan.generator.state_dict()

        before, after = weights_after(0), weights_after(1)
        assert any(not torch.equal(v, after[k]) for k, v in before.items()
                   if v.is_floating_point()), "one training step left the generator unchanged"
        for name, value in after.items():
            if value.is_floating_point():
                assert torch.isfinite(value).all(), f"non-finite weight {name} after one step"

    def test_sample_shape_dtype_and_range(self, trained) -> None:
        generator, _ = trained
        images, labels = generator.sample(per_class=3, return_labels=True)
        assert images.shape == (3 * self.num_classes, *self.image_shape)
        assert images.dtype == torch.uint8
        assert labels.tolist() == sorted(labels.tolist())
        assert generator.classes == [f"class{k}" for k in range(self.num_classes)]

    def test_same_seed_same_samples(self, trained) -> None:
        generator, _ = trained
        assert torch.equal(generator.sample(per_class=2, seed=5), generator.sample(per_class=2, seed=5, batch_size=1))
        assert not torch.equal(generator.sample(per_class=4, seed=5), generator.sample(per_class=4, seed=6))

    def test_save_load_round_trip(self, trained, ganaug_registry: Registry, tmp_path) -> None:
        import ganaug

        generator, run = trained
        expected = generator.sample(per_class=2, seed=1)
        generator.save(tmp_path / "saved")
        for source in (tmp_path / "saved", run):
            loaded = ganaug.load(source, registry=ganaug_registry)
            assert loaded.model == generator.model
            loaded.sources = generator.sources  # image families vary real images, which are not saved
            assert torch.equal(loaded.sample(per_class=2, seed=1), expected), f"round trip through {source}"


    def test_restoration_matches_the_conditioning(self, trained, data: ImageStore) -> None:
        """Image families restore and vary real images (known pixels kept, bad inputs named); noise
        families refuse both with a message that points to an image-to-image family."""
        from ganaug import ConfigError, DataError

        generator, _ = trained
        images, labels = data.images[:4], data.labels[:4]
        if generator.conditioning != "image":
            with pytest.raises(ConfigError, match="image-to-image family"):
                generator.restore(images, labels, masks="random")
            return
        blank = torch.zeros(self.image_shape[1:], dtype=torch.bool)
        assert torch.equal(generator.restore(images, labels, masks=blank), images), "unmasked pixels must be kept"
        filled = generator.restore(images, labels, masks="random", seed=3)
        assert filled.shape == images.shape and filled.dtype == torch.uint8
        assert torch.equal(filled, generator.restore(images, labels, masks="random", seed=3, batch_size=1))
        varied = generator.variations(images, labels, seed=1)
        assert torch.equal(varied, generator.variations(images, labels, seed=1, batch_size=1))
        with pytest.raises(DataError, match="masks of shape"):
            generator.restore(images, labels, masks=torch.ones(3, 3))
        with pytest.raises(DataError, match="4 images but 2 labels"):
            generator.restore(images, labels[:2], masks=blank)
        with pytest.raises(DataError, match="resize them"):
            generator.variations(images[:, :, :-1], labels)
